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
        abstract: "Class activation maps (the Grad-CAM family) over images: raw .npy maps, overlays and a small HTML report.",
        discussion: HelpExamples.discussion("gradcam")
    )

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var preprocessing: PreprocessOptions
    @OptionGroup var common: AttributionOptions
    @OptionGroup var targets: TargetOptions

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
        guard (1...AttributionLimits.maximumBatch).contains(batchSize) else {
            throw ValidationError("--batch-size must be 1 to \(AttributionLimits.maximumBatch), found \(batchSize)")
        }
        guard (0...1).contains(imageWeight) else { throw ValidationError("--image-weight must be in [0, 1]") }
        guard Colormap.named(colormap) != nil else { throw ValidationError("unknown colormap '\(colormap)'") }
    }

    func run() throws {
        try CNNVizCommand.reportingErrors {
            let session = try modelOptions.loadImageSession(forGradients: true)
            var method = try CAMMethods.named(self.method)
            if expScore, method is GradCAMPlusPlus { method = GradCAMPlusPlus(exponentialScore: true) }
            let runner = CAMRunner(session: session)
            let bar = ProgressLine(label: method.name)
            if bar.enabled { runner.progress = { done, total in bar.update(done, of: total) } }
            let smoothing = [augSmooth ? "aug-smooth" : nil, eigenSmooth ? "eigen-smooth" : nil].compactMap { $0 }
            let run = AttributionRun(session: session, options: common, preprocessing: preprocessing, targets: targets,
                                     name: self.method, captionMethod: ([self.method] + smoothing).joined(separator: " + "),
                                     sectionTitle: "\(method.name) maps",
                                     style: .cam(colormap: Colormap.named(colormap)!, imageWeight: imageWeight))
            try run.run { input, targets in
                var request = CAMRequest(targets: targets)
                request.layers = layer
                request.eigenSmooth = eigenSmooth
                request.augSmooth = augSmooth
                request.keepSigned = keepSigned
                request.batchSize = batchSize
                request.memoryLimit = try common.memoryLimitBytes
                let result = try runner.run(method, input: input, request: request)
                bar.finish()
                let (height, width) = (result.map.shape[1], result.map.shape[2]), plane = height * width
                let values = result.map.floats
                let explanations = (0..<result.map.shape[0]).map { b in
                    // The picture shows a [0, 1] map (MapStyle.cam scales a --keep-signed one).
                    Explanation(raw: Tensor(shape: [height, width], floats: Array(values[(b * plane)..<((b + 1) * plane)])),
                                score: result.scores[b], layer: result.layers.joined(separator: ","), batchSize: result.batchSize)
                }
                return (explanations, result.warnings)
            }
        }
    }
}
