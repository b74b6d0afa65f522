import ArgumentParser
import CNNVizAttribution
import CNNVizImaging
import CNNVizRender
import CNNVizReport
import CNNVizRuntime
import Foundation

struct GradCAMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gradcam",
        abstract: "Class activation maps (the Grad-CAM family) over images: raw .npy maps, overlays and a small HTML report."
    )

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var preprocessing: PreprocessOptions
    @OptionGroup var common: AttributionOptions

    @Option(name: .long, help: "gradcam, hirescam, gradcam-elementwise, gradcam++, xgradcam, layercam, scorecam, ablationcam, eigencam, eigengradcam or fullgrad.")
    var method: String = "gradcam"

    @Option(name: .long, help: "A layer to explain (tensor or node name); repeatable, maps averaged. Default: the last 4-D layer before the head.")
    var layer: [String] = []

    @Flag(name: .long, help: "Replace the channel sum by the first principal component (eigen-smooth).")
    var eigenSmooth = false

    @Flag(name: .long, help: "Average over horizontal flips and brightness × 0.9, 1, 1.1 (aug-smooth).")
    var augSmooth = false

    @Flag(name: .long, help: "Keep the signed, unnormalised map in the .npy (no ReLU, no min-max).")
    var keepSigned = false

    @Flag(name: .long, help: "Grad-CAM++ with the exp(score) term (tf-keras-vis) instead of pytorch-grad-cam's form.")
    var expScore = false

    @Option(name: .long, help: "Forward passes per batch for scorecam and ablationcam.")
    var batchSize: Int = 32

    @Option(name: .long, help: "Weight of the image in the overlay blend (pytorch-grad-cam's image_weight).")
    var imageWeight: Float = 0.5

    @Option(name: .long, help: "Colormap for the overlay: jet, turbo, viridis, inferno, magma, plasma, gray.")
    var colormap: String = "jet"

    func validate() throws {
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
        guard (0...1).contains(imageWeight) else { throw ValidationError("--image-weight must be in [0, 1]") }
        guard Colormap.named(colormap) != nil else { throw ValidationError("unknown colormap '\(colormap)'") }
    }

    func run() throws {
        try CNNVizCommand.reportingErrors {
            let session = try modelOptions.loadSession()
            var method = try CAMMethods.named(self.method)
            if expScore, method is GradCAMPlusPlus { method = GradCAMPlusPlus(exponentialScore: true) }
            let names = try classNames(file: common.labels, session: session)
            let runner = CAMRunner(session: session)
            let bar = ProgressLine(label: method.name)
            if bar.enabled { runner.progress = { done, total in bar.update(done, of: total) } }
            let preset = try preprocessing.preprocessing(for: session)
            var results = [AttributionOptions.Result](), times = [Double]()
            for source in common.sources {
                let input = try preprocessing.tensor(image: common.tensor == nil ? source : nil, tensor: common.tensor, session: session)
                let seen = common.tensor == nil ? try preset.image(from: input) : nil
                let directory = try common.directory(for: source)
                let report = directory.appendingPathComponent("\(self.method).html")
                var figures = [String]()
                for target in try ClassTargets.resolve(common.classes, top: common.top, labels: names, input: input, session: session) {
                    var request = CAMRequest(classes: [target])
                    request.layers = layer
                    request.eigenSmooth = eigenSmooth
                    request.augSmooth = augSmooth
                    request.keepSigned = keepSigned
                    request.batchSize = batchSize
                    let result = try common.timed(&times) { try runner.run(method, input: input, request: request) }
                    bar.finish()
                    for warning in result.warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
                    let label = names.flatMap { $0.indices.contains(target) ? $0[target] : nil } ?? "class \(target)"
                    let base = directory.appendingPathComponent(fileStem(for: "\(self.method)_\(target)"))
                    let (height, width) = (result.map.shape[1], result.map.shape[2])
                    let raw = base.appendingPathExtension("npy")
                    try NumpyFile.write(result.map.reshaped([height, width]), to: raw)
                    var files = [String]()
                    if let seen {
                        var shown = result.map.floats
                        if keepSigned {  // the picture always shows the [0, 1] map
                            let low = shown.min() ?? 0, high = shown.max() ?? 0
                            shown = shown.map { high > low ? ($0 - low) / (high - low) : 0 }
                        }
                        let caption = Caption(label: "\(target) \(label)", score: result.scores[0], method: method.name,
                                              layer: result.layers.joined(separator: " + "))
                        let (written, figure) = try common.overlay(Tensor(shape: [height, width], floats: shown), on: seen, caption: caption,
                                                                   colormap: Colormap.named(colormap)!, imageWeight: imageWeight, base: base)
                        files = written
                        figures.append(figure)
                    }
                    results.append(.init(image: source, class: target, label: label, score: result.scores[0], method: method.name,
                                         layer: result.layers.joined(separator: ","), raw: raw.path, overlay: files,
                                         report: report.path, warnings: result.warnings))
                }
                var document = HTMLDocument(title: "\(method.name) for \(URL(fileURLWithPath: source).lastPathComponent)")
                document.addSection("\(method.name) maps", body: figures.joined(separator: "\n"))
                try document.write(to: report)
            }
            try common.report(results, times: times)
        }
    }
}
