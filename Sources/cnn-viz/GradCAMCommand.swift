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

    @Argument(help: "PNG or JPEG images.")
    var images: [String] = []

    @Option(name: .long, help: "Use this NCHW float32 .npy as the input instead of images.")
    var tensor: String?

    @Option(name: .long, help: "gradcam, hirescam, gradcam-elementwise, gradcam++, xgradcam, layercam, scorecam, ablationcam, eigencam, eigengradcam or fullgrad.")
    var method: String = "gradcam"

    @Option(name: .long, help: "A layer to explain (tensor or node name); repeatable, maps averaged. Default: the last 4-D layer before the head.")
    var layer: [String] = []

    @Option(name: .customLong("class"), help: "A class index, or a class name from --labels; repeatable.")
    var classes: [String] = []

    @Option(name: .long, help: "Explain the top K classes of each image (default 1, when no --class is given).")
    var top: Int?

    @Option(name: .long, help: "Class names: one per line (synset lines accepted) or a JSON list.")
    var labels: String?

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

    @Option(name: .long, help: "Picture formats, comma-separated: png, pdf, svg.")
    var format: String = "png"

    @Option(name: .long, help: "Where files go. Default: reports/<image stem>/.")
    var out: String?

    @Flag(name: .long, help: "Print a JSON manifest on stdout.")
    var json = false

    @Option(name: .customLong("repeat"), help: "Compute each map N more times and report the median time (for benchmarks).")
    var repeatCount: Int = 0

    func validate() throws {
        guard images.isEmpty != (tensor == nil) else { throw ValidationError("give images, or --tensor X.npy") }
        guard top.map({ $0 >= 1 }) ?? true else { throw ValidationError("--top must be at least 1") }
        guard classes.isEmpty || top == nil else { throw ValidationError("--class and --top exclude each other") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
        guard (0...1).contains(imageWeight) else { throw ValidationError("--image-weight must be in [0, 1]") }
        guard Colormap.named(colormap) != nil else { throw ValidationError("unknown colormap '\(colormap)'") }
        _ = try OutputFormat.list(format)
    }

    struct Result: Encodable {
        var image: String
        var `class`: Int
        var label: String
        var score: Float
        var method: String
        var layer: String
        var raw: String
        var overlay: [String]
        var report: String
        var warnings: [String]
    }

    struct Manifest: Encodable {
        var results: [Result]
        /// With --repeat: the median milliseconds per map, after a first untimed run.
        var timing: [String: Double]?
    }

    func run() throws {
        try CNNVizCommand.reportingErrors {
            let session = try modelOptions.loadSession()
            var method = try CAMMethods.named(self.method)
            if expScore, method is GradCAMPlusPlus { method = GradCAMPlusPlus(exponentialScore: true) }
            let names = try labels.map { try ClassLabels.load(contentsOf: URL(fileURLWithPath: $0)) }
            let runner = CAMRunner(session: session)
            if isatty(2) != 0 {
                runner.progress = { done, total in FileHandle.standardError.write(Data("\r\(method.name) \(done)/\(total)".utf8)) }
            }
            let formats = try OutputFormat.list(format)
            let preset = try preprocessing.preprocessing(for: session)
            var results = [Result]()
            var times = [Double]()
            for source in tensor.map({ [$0] }) ?? images {
                let input = try preprocessing.tensor(image: tensor == nil ? source : nil, tensor: tensor, session: session)
                let seen = tensor == nil ? try preset.image(from: input) : nil
                let stem = URL(fileURLWithPath: source).deletingPathExtension().lastPathComponent
                let directory = URL(fileURLWithPath: out ?? "reports/\(fileStem(for: stem))")
                try createOutputDirectory(directory)
                var document = HTMLDocument(title: "\(method.name) for \(URL(fileURLWithPath: source).lastPathComponent)")
                var figures = [String]()
                for target in try ClassTargets.resolve(classes, top: top, labels: names, input: input, session: session) {
                    var request = CAMRequest(classes: [target])
                    request.layers = layer
                    request.eigenSmooth = eigenSmooth
                    request.augSmooth = augSmooth
                    request.keepSigned = keepSigned
                    request.batchSize = batchSize
                    let result = try runner.run(method, input: input, request: request)
                    for _ in 0..<repeatCount {
                        let start = DispatchTime.now().uptimeNanoseconds
                        _ = try runner.run(method, input: input, request: request)
                        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
                    }
                    if isatty(2) != 0 && !method.usesGradients { FileHandle.standardError.write(Data("\n".utf8)) }
                    for warning in result.warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
                    let label = names.flatMap { $0.indices.contains(target) ? $0[target] : nil } ?? "class \(target)"
                    let base = "\(self.method)_\(target)"
                    let raw = directory.appendingPathComponent(fileStem(for: base) + ".npy")
                    let (height, width) = (result.map.shape[1], result.map.shape[2])
                    try NumpyFile.write(result.map.reshaped([height, width]), to: raw)
                    var overlayFiles = [String]()
                    if let seen {
                        var shown = result.map.floats
                        if keepSigned {  // the picture always shows the [0, 1] map
                            let low = shown.min() ?? 0, high = shown.max() ?? 0
                            shown = shown.map { high > low ? ($0 - low) / (high - low) : 0 }
                        }
                        let blended = try Overlay.cam(Tensor(shape: [height, width], floats: shown), on: seen,
                                                      colormap: Colormap.named(colormap)!, imageWeight: imageWeight)
                        let figure = OverlayFigure(image: blended, caption: Caption(label: "\(target) \(label)", score: result.scores[0],
                                                                                    method: method.name, layer: result.layers.joined(separator: " + ")),
                                                   colorBar: ColorBar(colormap: Colormap.named(colormap)!))
                        overlayFiles = try figure.picture.write(to: directory.appendingPathComponent(fileStem(for: base)), formats: formats).map(\.path)
                        figures.append(HTMLDocument.figure(png: try figure.picture.encoded(as: .png), caption: "\(method.name): \(target) \(label)"))
                    }
                    results.append(Result(image: source, class: target, label: label, score: result.scores[0], method: method.name,
                                          layer: result.layers.joined(separator: ","), raw: raw.path, overlay: overlayFiles,
                                          report: directory.appendingPathComponent("\(self.method).html").path, warnings: result.warnings))
                }
                document.addSection("\(method.name) maps", body: figures.joined(separator: "\n"))
                try document.write(to: directory.appendingPathComponent("\(self.method).html"))
            }
            if json {
                try printJSON(Manifest(results: results, timing: times.isEmpty ? nil : ["attribution_ms": times.sorted()[times.count / 2]]))
            } else {
                for result in results {
                    print("\(result.image): \(result.method) for \(result.class) \(result.label) (logit \(result.score)) at \(result.layer) → \(result.raw)")
                }
            }
        }
    }
}
