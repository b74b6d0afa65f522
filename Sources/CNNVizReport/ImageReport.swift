import CNNVizAttribution
import CNNVizImaging
import CNNVizRender
import CNNVizRuntime
import Foundation

/// The report for one image: the input as the model saw it, the top-k predictions, gradient
/// saliency for the top class, the feature maps of the explained layer, the first layer's
/// filters, per-layer statistics, the model summary and how the run went.
public struct ImageReport {
    public struct Prediction: Encodable, Sendable {
        public var `class`: Int
        public var label: String
        public var score: Float

        public init(class index: Int, label: String, score: Float) {
            self.class = index
            self.label = label
            self.score = score
        }
    }

    public var session: Session
    public var preprocessing: Preprocessing
    public var labels: [String]?
    /// How many classes the predictions chart shows.
    public var top: Int
    /// The layer to show; nil picks `Session.defaultTargetLayer`.
    public var layer: String?
    /// What the attribution section explains, one pair of maps per target; by default the top
    /// two classes of the default output (its logits before a Softmax).
    public var choice: TargetChoice

    public init(session: Session, preprocessing: Preprocessing, labels: [String]?, top: Int, layer: String?, choice: TargetChoice? = nil) {
        self.session = session
        self.preprocessing = preprocessing
        self.labels = labels
        self.top = top
        self.layer = layer
        self.choice = choice ?? {
            var choice = TargetChoice()
            choice.top = min(2, top)
            return choice
        }()
    }

    func label(_ index: Int) -> String {
        labels.flatMap { $0.indices.contains(index) ? $0[index] : nil } ?? "class \(index)"
    }

    /// The class probabilities for a model's first output: the output itself when the graph
    /// ends in Softmax or Sigmoid; σ(xᵢ) per class when the model declares independent
    /// (multi-label) scores in its metadata (`cnn-viz.scores` = sigmoid, as the shapes model
    /// does); else the softmax. Pitfall: a softmax over multi-label logits would split one
    /// unit of probability between two objects that are both certainly present.
    public static func classProbabilities(_ output: [Float], session: Session) -> [Float] {
        let name = session.graph.outputs[0].name
        let last = session.graph.nodes.last { $0.outputs.contains(name) }?.opType
        if last == "Softmax" || last == "Sigmoid" { return output }
        if session.model.metadata[ModelMetadata.scoresKey] == "sigmoid" {
            return output.map { Float(1 / (1 + Foundation.exp(-Double($0)))) }
        }
        return probabilities(output)
    }

    /// pᵢ = e^(xᵢ − max) / Σ e^(xⱼ − max), in Double.
    public static func probabilities(_ logits: [Float]) -> [Float] {
        let maximum = logits.max() ?? 0
        let exps = logits.map { Foundation.exp(Double($0 - maximum)) }
        let sum = exps.reduce(0, +)
        return exps.map { Float($0 / sum) }
    }

    public func build(image path: String) throws -> (HTMLDocument, (layer: String, top: [Prediction])) {
        let url = URL(fileURLWithPath: path)
        let inputInfo = session.graph.inputs[0]
        let tensor: Tensor
        do {
            tensor = try preprocessing.tensor(from: try ImageDecoder.decode(contentsOf: url), for: inputInfo)
        } catch let error as CNNVizError {
            throw error.location == nil ? error.located(at: path) : error
        }
        let seen = try preprocessing.image(from: tensor)
        let output = session.graph.outputs[0].name
        let started = DispatchTime.now().uptimeNanoseconds
        let values = try session.run([inputInfo.name: tensor], outputs: session.graph.tensorNames)
        let forwardMilliseconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6
        // The chart needs one score per class: a model whose first output is [1, C].
        let scores = values[output]!
        let isClassifier = scores.rank >= 2 && scores.count == scores.shape[1]
        let probabilities = isClassifier ? ImageReport.classProbabilities(scores.floats, session: session) : []
        let ranked = probabilities.indices.sorted { probabilities[$0] > probabilities[$1] }.prefix(top)
        let predictions = ranked.map { Prediction(class: $0, label: label($0), score: probabilities[$0]) }
        let targetTensor = try choice.tensor(in: session)
        let layerName = try layer.map { try session.resolveTensorName($0) }
            ?? session.defaultTargetLayer(for: targetTensor) { name in
                guard let value = values[name] else { throw CNNVizError(.unknownTensor, "tensor '\(name)' was not computed") }
                return value.shape
            }

        var document = HTMLDocument(title: "\(url.lastPathComponent) through \(URL(fileURLWithPath: session.model.source).lastPathComponent)")
        document.addSection("Input as the model saw it", body: HTMLDocument.figure(
            png: try OverlayFigure(image: seen, scale: max(1, 224 / max(seen.width, seen.height))).picture.encoded(as: .png),
            caption: "\(seen.width)×\(seen.height), preprocessed by \(preprocessing)"))
        if !predictions.isEmpty {
            document.addSection("Top \(predictions.count) predictions (probabilities)",
                                body: HTMLDocument.barChart(predictions.map { ("\($0.class) \($0.label)", Double($0.score)) }))
        }
        document.addSection("Attribution", body: try attributionFigures(tensor, seen: seen, layer: layerName, targetValues: values[targetTensor]!)
            .joined(separator: "\n"))
        if let activation = values[layerName], activation.rank == 4 {
            var options = FeatureMapGrid.Options()
            options.maximumChannels = 16
            let grid = try FeatureMapGrid(activations: activation, layerName: layerName, options: options)
            document.addSection("Feature maps of \(layerName)", body: HTMLDocument.figure(png: try grid.picture.encoded(as: .png), caption: grid.title))
        }
        if let conv = session.graph.nodes.first(where: { $0.opType == "Conv" && $0.inputs.count > 1 && session.graph.initializers[$0.inputs[1]] != nil }) {
            var options = FilterGrid.Options()
            if preprocessing.channels == .bgr { options.inputChannelOrder = .bgr }
            let grid = try FilterGrid(weights: session.graph.initializers[conv.inputs[1]]!, layerName: conv.name.isEmpty ? conv.outputs[0] : conv.name,
                                      options: options)
            document.addSection("First-layer filters", body: HTMLDocument.figure(png: try grid.picture.encoded(as: .png), caption: grid.title))
        }
        let statistics = session.graph.tensorNames.compactMap { name in
            values[name].flatMap { $0.isFloatingPoint ? LayerStatistics(name: name, tensor: $0) : nil }
        }
        document.addSection("Layer statistics", body: LayerStatistics.table(statistics))
        let rows = try ModelSummary.rows(for: session)
        document.addSection("Model", body: HTMLDocument.table(
            header: ["layer", "op", "output shape", "parameters", "MACs"],
            rows: rows.map { [$0.name, $0.op, "\($0.shape)", "\($0.parameters)", "\($0.macs)"] }))
        document.addSection("Run", body: HTMLDocument.table(header: ["item", "value"], rows: [
            ["image", path], ["model", session.model.source], ["opset", "\(session.model.opsetVersion)"],
            ["preprocessing", "\(preprocessing)"], ["explained layer", layerName],
            ["forward (all layers kept)", String(format: "%.1f ms", forwardMilliseconds)],
            ["written", ISO8601DateFormatter().string(from: Date())],
        ]))
        return (document, (layerName, predictions))
    }

    /// For each target, side by side: Grad-CAM at the explained layer (pytorch-grad-cam's
    /// overlay) and the input gradient as Captum draws it (summed over channels, sign `all`,
    /// 2% outliers clipped, blended over the image in gray).
    func attributionFigures(_ tensor: Tensor, seen: RGBImage, layer: String, targetValues: Tensor) throws -> [String] {
        let lists = try choice.resolve(session: session, images: 0..<1, totalImages: 1, labels: labels,
                                       inputSize: (tensor.shape[2], tensor.shape[3])) { targetValues }
        var figures = [String]()
        let scale = max(1, 224 / max(seen.width, seen.height))
        for targets in lists {
            var request = AttributionRequest(targets: targets)
            request.layer = layer
            let target = targets[0]
            let name = target.classIndex.map { "\($0) \(label($0))" } ?? target.summary
            for method in [AttributionMethod.cam(GradCAM()), .gradient(.gradient)] {
                let result = try method.explain(tensor, session: session, request: request)
                let style = result.attribution == nil ? MapStyle.cam(colormap: .jet, imageWeight: 0.5)
                    : .captum(view: .blendedHeatMap, sign: .all, outlierPercent: 2, colormap: nil)
                let shown = try style.shown(result.attribution ?? result.map.reshaped([seen.height, seen.width]))
                let figure = OverlayFigure(image: try style.draw(shown, on: seen),
                                           caption: Caption(label: name, score: result.scores[0], scoreName: session.scoreName(of: result.tensor),
                                                            method: [result.method, style.summary].compactMap { $0 }.joined(separator: ", "),
                                                            layer: result.layers.first ?? "input"),
                                           colorBar: style.colorBar, scale: scale)
                figures.append(HTMLDocument.figure(png: try figure.picture.encoded(as: .png), caption: "\(result.method) for \(name)"))
            }
        }
        return figures
    }
}
