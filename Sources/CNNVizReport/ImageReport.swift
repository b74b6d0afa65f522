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
    public var top: Int
    /// The layer to show; nil picks `Session.defaultTargetLayer`.
    public var layer: String?

    public init(session: Session, preprocessing: Preprocessing, labels: [String]?, top: Int, layer: String?) {
        self.session = session
        self.preprocessing = preprocessing
        self.labels = labels
        self.top = top
        self.layer = layer
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
        let logitsName = session.logitsBeforeSoftmax(output)
        let probabilities = ImageReport.classProbabilities(values[output]!.floats, session: session)
        let ranked = probabilities.indices.sorted { probabilities[$0] > probabilities[$1] }.prefix(top)
        let predictions = ranked.map { Prediction(class: $0, label: label($0), score: probabilities[$0]) }
        let layerName = try layer.map { try session.resolveTensorName($0) }
            ?? session.defaultTargetLayer(for: output) { name in
                guard let value = values[name] else { throw CNNVizError(.unknownTensor, "tensor '\(name)' was not computed") }
                return value.shape
            }

        var document = HTMLDocument(title: "\(url.lastPathComponent) through \(URL(fileURLWithPath: session.model.source).lastPathComponent)")
        document.addSection("Input as the model saw it", body: HTMLDocument.figure(
            png: try OverlayFigure(image: seen, scale: max(1, 224 / max(seen.width, seen.height))).picture.encoded(as: .png),
            caption: "\(seen.width)×\(seen.height) after \(preprocessing)"))
        document.addSection("Top \(predictions.count) predictions (probabilities)",
                            body: HTMLDocument.barChart(predictions.map { ("\($0.class) \($0.label)", Double($0.score)) }))

        // Attribution for the top two classes, side by side: Grad-CAM at the explained layer and
        // gradient saliency (|∂logit/∂x| max over channels, scaled by its max).
        var figures = [String]()
        let scale = max(1, 224 / max(seen.width, seen.height))
        let runner = CAMRunner(session: session)
        for prediction in predictions.prefix(2) {
            var request = CAMRequest(classes: [prediction.class])
            request.layers = [layerName]
            let cam = try runner.run(GradCAM(), input: tensor, request: request)
            let seed = GradientSeed.logit(logitsName ?? output, classes: [prediction.class])
            let gradient = try session.gradients([inputInfo.name: tensor], seed: seed, wrt: [inputInfo.name]).gradients[inputInfo.name]!
            for (method, map) in [("gradcam", cam.map.reshaped([seen.height, seen.width])), ("gradient saliency", Self.channelMaxOfMagnitude(gradient))] {
                let figure = OverlayFigure(image: try Overlay.cam(map, on: seen),
                                           caption: Caption(label: "\(prediction.class) \(prediction.label)", score: prediction.score,
                                                            method: method, layer: method == "gradcam" ? layerName : "input"),
                                           colorBar: ColorBar(colormap: .jet), scale: scale)
                figures.append(HTMLDocument.figure(png: try figure.picture.encoded(as: .png), caption: "\(method) for \(prediction.label)"))
            }
        }
        document.addSection("Attribution", body: figures.joined(separator: "\n"))
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
        document.addSection("Layer statistics", body: HTMLDocument.table(
            header: ["layer", "shape", "mean", "std", "min", "max", "zeros", "dead channels"],
            rows: statistics.map { s in
                [s.name, "\(s.shape)", String(format: "%.4g", s.mean), String(format: "%.4g", s.standardDeviation),
                 String(format: "%.4g", s.minimum), String(format: "%.4g", s.maximum), String(format: "%.1f%%", 100 * s.zeroFraction),
                 "\(s.deadChannels.count)"]
            }))
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

    /// max over channels of |g|, divided by its maximum: an [1, 1, H, W] map in [0, 1].
    public static func channelMaxOfMagnitude(_ gradient: Tensor, batchIndex: Int = 0) -> Tensor {
        let (channels, h, w) = (gradient.shape[1], gradient.shape[2], gradient.shape[3])
        let values = gradient.floats, base = batchIndex * channels * h * w
        var map = [Float](repeating: 0, count: h * w)
        for c in 0..<channels {
            for i in 0..<(h * w) { map[i] = max(map[i], abs(values[base + c * h * w + i])) }
        }
        let largest = map.max() ?? 0
        return Tensor(shape: [1, 1, h, w], floats: largest > 0 ? map.map { $0 / largest } : map)
    }
}
