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
        abstract: "Gradient attributions as Captum defines them: raw .npy (signed, input-shaped), overlays and a small HTML report.",
        discussion: HelpExamples.discussion("saliency")
    )

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var preprocessing: PreprocessOptions
    @OptionGroup var common: AttributionOptions
    @OptionGroup var targets: TargetOptions

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

    @Option(name: .long, help: "Which part of the attribution the picture shows, as Captum's sign: all (red negative, green positive), positive, negative or absolute_value. Default: all for the signed methods (gradient, input-x-gradient, integrated-gradients, occlusion, and smoothgrad of them), absolute_value for the rest.")
    var sign: String?

    @Option(name: .long, help: "How the picture is drawn, as Captum's method: heat_map, blended_heat_map (over the image in gray), masked_image, alpha_scaling or original_image.")
    var visualization: String = "blended_heat_map"

    @Option(name: .long, help: "Percent of the attribution's mass that saturates the colour scale (Captum's outlier_perc).")
    var outlierPerc: Float = 2

    @Option(name: .long, help: "Colormap for the picture. Default: the sign's, as in Captum (RdWhGn for all, Greens, Reds, Blues).")
    var colormap: String?


    func validate() throws {
        guard steps >= 2, steps <= 100_000 else { throw ValidationError("--steps must be 2 to 100000, found \(steps)") }
        guard samples >= 1, samples <= 100_000 else { throw ValidationError("--samples must be 1 to 100000, found \(samples)") }
        guard (1...AttributionLimits.maximumBatch).contains(batchSize) else {
            throw ValidationError("--batch-size must be 1 to \(AttributionLimits.maximumBatch), found \(batchSize)")
        }
        guard sigma.isFinite, sigma > 0, sigma <= 1e6 else { throw ValidationError("--sigma must be positive and at most 1e6 (noise beyond that overflows Float32 activations), found \(sigma)") }
        guard occlusionValue.isFinite else { throw ValidationError("--occlusion-value must be finite, found \(occlusionValue)") }
        guard IntegrationRule(rawValue: integration) != nil else { throw ValidationError("--integration must be riemann-trapezoid or gauss-legendre") }
        guard noise.map({ NoiseTunnel.Kind(rawValue: $0) != nil }) ?? true else { throw ValidationError("--noise must be smoothgrad, smoothgrad-sq or vargrad") }
        guard sign.map({ AttributionSign(rawValue: $0) != nil }) ?? true else {
            throw ValidationError("--sign must be one of " + AttributionSign.allCases.map(\.rawValue).joined(separator: ", ") + ", found '\(sign!)'")
        }
        guard AttributionView(captumName: visualization) != nil else {
            throw ValidationError("--visualization must be one of " + AttributionView.captumNames.joined(separator: ", ") + ", found '\(visualization)'")
        }
        guard outlierPerc.isFinite, (0...100).contains(outlierPerc) else { throw ValidationError("--outlier-perc must be 0 to 100, found \(outlierPerc)") }
        guard colormap.map({ Colormap.named($0) != nil }) ?? true else {
            throw ValidationError("unknown colormap '\(colormap!)'; known: " + Colormap.all.map(\.name).joined(separator: ", "))
        }
        let view = AttributionView(captumName: visualization)!
        if try chosenSign() == .all, view == .maskedImage || view == .alphaScaling {
            throw ValidationError("--visualization \(visualization) cannot show a sign; add --sign positive, negative or absolute_value")
        }
        _ = try SaliencyCommand.pair(window, option: "--window")
        _ = try SaliencyCommand.pair(stride, option: "--stride")
    }

    /// "N" or "HxW".
    static func pair(_ text: String, option: String) throws -> (Int, Int) {
        let parts = text.lowercased().split(separator: "x").compactMap { Int($0) }
        guard parts.count == 1 || parts.count == 2, parts.allSatisfy({ $0 >= 1 && $0 <= 1 << 16 }) else {
            throw ValidationError("\(option) expects N or HxW with positive integers up to 65536, found '\(text)'")
        }
        return (parts[0], parts.count == 2 ? parts[1] : parts[0])
    }

    func run() throws {
        try CNNVizCommand.reportingErrors {
            let session = try modelOptions.loadImageSession(forGradients: true)
            let method = try SaliencyMethod.named(self.method)
            let runner = SaliencyRunner(session: session)
            let bar = ProgressLine(label: method.rawValue)
            if bar.enabled { runner.progress = { done, total in bar.update(done, of: total) } }
            let name = method.rawValue + (noise.map { "_\($0)" } ?? "")
            let style = MapStyle.captum(view: AttributionView(captumName: visualization)!, sign: try chosenSign(),
                                        outlierPercent: outlierPerc, colormap: colormap.flatMap(Colormap.named))
            let noiseCaption = noise.map { " + \($0) (\(samples) samples, σ \(sigma)\(sigmaFraction ? " of the range" : ""))" } ?? ""
            let run = AttributionRun(session: session, options: common, preprocessing: preprocessing, targets: targets,
                                     name: name, captionMethod: method.rawValue + noiseCaption,
                                     sectionTitle: "\(name): attribution summed over channels, \(style.summary!)", style: style)
            try run.run { input, targets in
                let result = try runner.run(method, input: input, request: try request(for: targets))
                bar.finish()
                let (channels, height, width) = (input.shape[1], input.shape[2], input.shape[3])
                let item = channels * height * width
                let attribution = result.attribution.floats
                let explanations = (0..<input.shape[0]).map { b in
                    Explanation(raw: Tensor(shape: [1, channels, height, width], floats: Array(attribution[(b * item)..<((b + 1) * item)])),
                                score: result.scores[b], layer: method == .guidedGradCAM ? layer : "input", batchSize: result.batchSize)
                }
                return (explanations, result.warnings)
            }
        }
    }

    /// --sign, or the method's default: `all` where the attribution's sign means something
    /// (support against opposition), `absolute_value` for guided backprop, deconvnet and
    /// guided Grad-CAM (whose signs are an artefact of their rules) and for the noise tunnels
    /// that square (already non-negative).
    func chosenSign() throws -> AttributionSign {
        if let sign { return AttributionSign(rawValue: sign)! }
        let signedMethods: Set<SaliencyMethod> = [.gradient, .inputXGradient, .integratedGradients, .occlusion]
        let signedNoise = noise == nil || noise == "smoothgrad"
        return signedMethods.contains(try SaliencyMethod.named(self.method)) && signedNoise ? .all : .absoluteValue
    }

    func request(for targets: [any AttributionTarget]) throws -> SaliencyRequest {
        var request = SaliencyRequest(targets: targets)
        request.steps = steps
        request.integration = IntegrationRule(rawValue: integration)!
        request.baseline = try baselineChoice()
        request.noise = noise.map { NoiseTunnel(kind: NoiseTunnel.Kind(rawValue: $0)!, samples: samples, sigma: sigma,
                                                sigmaIsFractionOfRange: sigmaFraction, seed: seed) }
        request.layer = layer
        request.window = try SaliencyCommand.pair(window, option: "--window")
        request.stride = try SaliencyCommand.pair(stride, option: "--stride")
        request.occlusionValue = occlusionValue
        request.batchSize = batchSize
        request.memoryLimit = try common.memoryLimitBytes
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
