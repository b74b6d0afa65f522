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
    @OptionGroup var common: AttributionOptions

    @Option(name: .long, help: "gradient, input-x-gradient, integrated-gradients, guided-backprop, deconvnet, guided-gradcam or occlusion.")
    var method: String = "gradient"

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


    func validate() throws {
        guard steps >= 2, samples >= 1, batchSize >= 1 else { throw ValidationError("--steps must be ≥ 2, --samples and --batch-size ≥ 1") }
        guard IntegrationRule(rawValue: integration) != nil else { throw ValidationError("--integration must be riemann-trapezoid or gauss-legendre") }
        guard noise.map({ NoiseTunnel.Kind(rawValue: $0) != nil }) ?? true else { throw ValidationError("--noise must be smoothgrad, smoothgrad-sq or vargrad") }
        _ = try SaliencyCommand.pair(window)
        _ = try SaliencyCommand.pair(stride)
    }

    /// "N" or "HxW".
    static func pair(_ text: String) throws -> (Int, Int) {
        let parts = text.lowercased().split(separator: "x").compactMap { Int($0) }
        guard parts.count == 1 || parts.count == 2, parts.allSatisfy({ $0 >= 1 }) else {
            throw ValidationError("expected N or HxW with positive integers, found '\(text)'")
        }
        return (parts[0], parts.count == 2 ? parts[1] : parts[0])
    }

    func run() throws {
        try CNNVizCommand.reportingErrors {
            let session = try modelOptions.loadSession()
            let method = try SaliencyMethod.named(self.method)
            let names = try classNames(file: common.labels, session: session)
            let runner = SaliencyRunner(session: session)
            let bar = ProgressLine(label: method.rawValue)
            if bar.enabled { runner.progress = { done, total in bar.update(done, of: total) } }
            let preset = try preprocessing.preprocessing(for: session)
            let name = method.rawValue + (noise.map { "_\($0)" } ?? "")
            var results = [AttributionOptions.Result](), times = [Double]()
            for source in common.sources {
                let input = try preprocessing.tensor(image: common.tensor == nil ? source : nil, tensor: common.tensor, session: session)
                let seen = common.tensor == nil ? try preset.image(from: input) : nil
                let directory = try common.directory(for: source)
                let report = directory.appendingPathComponent("\(name).html")
                var figures = [String]()
                for target in try ClassTargets.resolve(common.classes, top: common.top, labels: names, input: input, session: session) {
                    let request = try request(for: target)
                    let result = try common.timed(&times) { try runner.run(method, input: input, request: request) }
                    bar.finish()
                    for warning in result.warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
                    let label = names.flatMap { $0.indices.contains(target) ? $0[target] : nil } ?? "class \(target)"
                    let base = directory.appendingPathComponent(fileStem(for: "\(name)_\(target)"))
                    let raw = base.appendingPathExtension("npy")
                    try NumpyFile.write(result.attribution, to: raw)
                    var files = [String]()
                    if let seen {
                        let caption = Caption(label: "\(target) \(label)", score: result.scores[0], method: name, layer: "input")
                        let (written, figure) = try common.overlay(result.map.reshaped([seen.height, seen.width]), on: seen,
                                                                   caption: caption, base: base)
                        files = written
                        figures.append(figure)
                    }
                    results.append(.init(image: source, class: target, label: label, score: result.scores[0], method: name,
                                         layer: method == .guidedGradCAM ? layer : nil, raw: raw.path, overlay: files,
                                         report: report.path, warnings: result.warnings))
                }
                var document = HTMLDocument(title: "\(name) for \(URL(fileURLWithPath: source).lastPathComponent)")
                document.addSection("\(name): |attribution|, max over channels", body: figures.joined(separator: "\n"))
                try document.write(to: report)
            }
            try common.report(results, times: times)
        }
    }

    func request(for target: Int) throws -> SaliencyRequest {
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
        return request
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
