import ArgumentParser
import CNNVizAttribution
import CNNVizImaging
import CNNVizRender
import CNNVizReport
import CNNVizRuntime
import Foundation

struct SaliencyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "saliency",
        abstract: "Gradient attributions as Captum defines them: raw .npy (signed, input-shaped), overlays and a small HTML report."
    )

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var preprocessing: PreprocessOptions

    @Argument(help: "PNG or JPEG images.")
    var images: [String] = []

    @Option(name: .long, help: "Use this NCHW float32 .npy as the input instead of images.")
    var tensor: String?

    @Option(name: .long, help: "gradient, input-x-gradient, integrated-gradients, guided-backprop, deconvnet, guided-gradcam or occlusion.")
    var method: String = "gradient"

    @Option(name: .customLong("class"), help: "A class index, or a class name from --labels; repeatable.")
    var classes: [String] = []

    @Option(name: .long, help: "Explain the top K classes of each image (default 1, when no --class is given).")
    var top: Int?

    @Option(name: .long, help: "Class names: one per line (synset lines accepted) or a JSON list.")
    var labels: String?

    @Option(name: .long, help: "Integrated gradients: points on the path.")
    var steps: Int = 50

    @Option(name: .long, help: "Integrated gradients: riemann-trapezoid or gauss-legendre.")
    var integration: String = "gauss-legendre"

    @Option(name: .long, help: "Integrated gradients baseline: zero, blur (Gaussian, σ = 5 px) or a .npy path.")
    var baseline: String = "zero"

    @Option(name: .long, help: "Noise tunnel around the method: smoothgrad, smoothgrad-sq or vargrad.")
    var noise: String?

    @Option(name: .long, help: "Noise tunnel samples.")
    var samples: Int = 16

    @Option(name: .long, help: "Noise tunnel σ (absolute, as in Captum).")
    var sigma: Double = 0.15

    @Flag(name: .long, help: "Read --sigma as a fraction of the input's (max − min), as tf-keras-vis does.")
    var sigmaFraction = false

    @Option(name: .long, help: "Noise seed.")
    var seed: UInt64 = 0

    @Option(name: .long, help: "Guided Grad-CAM's layer. Default: the last 4-D layer before the head.")
    var layer: String?

    @Option(name: .long, help: "Occlusion window, N or HxW pixels (all channels).")
    var window: String = "15"

    @Option(name: .long, help: "Occlusion stride, N or HxW pixels.")
    var stride: String = "8"

    @Option(name: .long, help: "Occlusion baseline value.")
    var occlusionValue: Float = 0

    @Option(name: .long, help: "Inputs per batch (integrated gradients, noise, occlusion).")
    var batchSize: Int = 32

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
        guard classes.isEmpty || top == nil else { throw ValidationError("--class and --top exclude each other") }
        guard steps >= 2, samples >= 1, batchSize >= 1 else { throw ValidationError("--steps must be ≥ 2, --samples and --batch-size ≥ 1") }
        guard IntegrationRule(rawValue: integration) != nil else { throw ValidationError("--integration must be riemann-trapezoid or gauss-legendre") }
        guard noise.map({ NoiseTunnel.Kind(rawValue: $0) != nil }) ?? true else { throw ValidationError("--noise must be smoothgrad, smoothgrad-sq or vargrad") }
        _ = try SaliencyCommand.pair(window)
        _ = try SaliencyCommand.pair(stride)
        _ = try OutputFormat.list(format)
    }

    /// "N" or "HxW".
    static func pair(_ text: String) throws -> (Int, Int) {
        let parts = text.lowercased().split(separator: "x").compactMap { Int($0) }
        guard parts.count == 1 || parts.count == 2, parts.allSatisfy({ $0 >= 1 }) else {
            throw ValidationError("expected N or HxW with positive integers, found '\(text)'")
        }
        return (parts[0], parts.count == 2 ? parts[1] : parts[0])
    }

    struct Result: Encodable {
        var image: String
        var `class`: Int
        var label: String
        var score: Float
        var method: String
        var layer: String?
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
            let method = try SaliencyMethod.named(self.method)
            let names = try labels.map { try ClassLabels.load(contentsOf: URL(fileURLWithPath: $0)) }
            let runner = SaliencyRunner(session: session)
            if isatty(2) != 0 { runner.progress = { done, total in FileHandle.standardError.write(Data("\r\(method.rawValue) \(done)/\(total)".utf8)) } }
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
                let suffix = noise.map { "_\($0)" } ?? ""
                var document = HTMLDocument(title: "\(method.rawValue)\(suffix) for \(URL(fileURLWithPath: source).lastPathComponent)")
                var figures = [String]()
                for target in try ClassTargets.resolve(classes, top: top, labels: names, input: input, session: session) {
                    var request = SaliencyRequest(classes: [target])
                    request.steps = steps
                    request.integration = IntegrationRule(rawValue: integration)!
                    request.baseline = try baselineChoice()
                    request.noise = noise.map { NoiseTunnel(kind: NoiseTunnel.Kind(rawValue: $0)!, samples: samples, sigma: sigma,
                                                            sigmaIsFractionOfRange: sigmaFraction, seed: seed) }
                    request.layer = layer
                    request.window = try SaliencyCommand.pair(window)
                    request.stride = try SaliencyCommand.pair(stride)
                    request.occlusionValue = occlusionValue
                    request.batchSize = batchSize
                    let result = try runner.run(method, input: input, request: request)
                    for _ in 0..<repeatCount {
                        let start = DispatchTime.now().uptimeNanoseconds
                        _ = try runner.run(method, input: input, request: request)
                        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
                    }
                    if isatty(2) != 0 { FileHandle.standardError.write(Data("\n".utf8)) }
                    for warning in result.warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
                    let label = names.flatMap { $0.indices.contains(target) ? $0[target] : nil } ?? "class \(target)"
                    let base = fileStem(for: "\(method.rawValue)\(suffix)_\(target)")
                    let raw = directory.appendingPathComponent(base + ".npy")
                    try NumpyFile.write(result.attribution, to: raw)
                    var overlayFiles = [String]()
                    if let seen {
                        let map = result.map.reshaped([seen.height, seen.width])
                        let figure = OverlayFigure(image: try Overlay.cam(map, on: seen),
                                                   caption: Caption(label: "\(target) \(label)", score: result.scores[0],
                                                                    method: method.rawValue + suffix, layer: "input"),
                                                   colorBar: ColorBar(colormap: .jet))
                        overlayFiles = try figure.picture.write(to: directory.appendingPathComponent(base), formats: formats).map(\.path)
                        figures.append(HTMLDocument.figure(png: try figure.picture.encoded(as: .png), caption: "\(method.rawValue)\(suffix): \(target) \(label)"))
                    }
                    results.append(Result(image: source, class: target, label: label, score: result.scores[0], method: method.rawValue + suffix,
                                          layer: method == .guidedGradCAM ? layer : nil, raw: raw.path, overlay: overlayFiles,
                                          report: directory.appendingPathComponent("\(method.rawValue)\(suffix).html").path, warnings: result.warnings))
                }
                document.addSection("\(method.rawValue)\(suffix): |attribution|, max over channels", body: figures.joined(separator: "\n"))
                try document.write(to: directory.appendingPathComponent("\(method.rawValue)\(suffix).html"))
            }
            if json {
                try printJSON(Manifest(results: results, timing: times.isEmpty ? nil : ["attribution_ms": times.sorted()[times.count / 2]]))
            } else {
                for result in results { print("\(result.image): \(result.method) for \(result.class) \(result.label) → \(result.raw)") }
            }
        }
    }

    func baselineChoice() throws -> Baseline {
        switch baseline {
        case "zero": return .zero
        case "blur": return .blur(sigma: 5)
        default: return .custom(try NumpyFile.read(contentsOf: URL(fileURLWithPath: baseline)))
        }
    }
}

/// The classes a command explains: --class (indices or label names), else the top K logits.
enum ClassTargets {
    static func resolve(_ classes: [String], top: Int?, labels: [String]?, input: Tensor, session: Session) throws -> [Int] {
        if !classes.isEmpty {
            return try classes.map { text in
                if let index = Int(text) { return index }
                guard let labels, let index = labels.firstIndex(where: { $0 == text || $0.split(separator: ",").first.map(String.init) == text }) else {
                    throw CNNVizError(.invalidArgument, "'\(text)' is neither a class index nor a name in --labels")
                }
                return index
            }
        }
        let output = session.graph.outputs[0].name
        let logits = session.logitsBeforeSoftmax(output) ?? output
        let values = try session.run([session.graph.inputs[0].name: input], outputs: [logits])[logits]!.floats
        return Array(values.indices.sorted { values[$0] > values[$1] }.prefix(top ?? 1))
    }
}
