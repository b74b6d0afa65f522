import ArgumentParser
import CNNVizImaging
import CNNVizRender
import CNNVizReport
import CNNVizRuntime
import Foundation

struct ActivationsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "activations",
        abstract: "Dump feature maps: each layer as .npy, all of them as one .npz, statistics and an HTML report.",
        discussion: HelpExamples.discussion("activations")
    )

    @OptionGroup var modelOptions: ModelOptions

    @Argument(help: "A PNG or JPEG image (or use --tensor).")
    var image: String?

    @Option(name: .long, help: "Use this NCHW float32 .npy as the input instead of an image.")
    var tensor: String?

    @Option(name: .long, help: "A layer (tensor or node name) to dump; repeatable. Default: every layer (--all).")
    var layer: [String] = []

    @Flag(name: .long, help: "Dump every tensor the graph computes.")
    var all = false

    @OptionGroup var preprocessing: PreprocessOptions

    @Option(name: .long, help: "Where files go. Default: reports/<input stem>/activations.")
    var out: String?

    @Option(name: .long, help: "Picture formats for the grids, comma-separated: png, pdf, svg.")
    var format: String = "png"

    @Option(name: .long, help: "Channels per feature-map grid, the strongest by mean activation first.")
    var channels: Int = 16

    @Flag(name: .long, help: "Print a JSON manifest on stdout.")
    var json = false

    func validate() throws {
        _ = try OutputFormat.list(format)
        guard channels >= 1 else { throw ValidationError("--channels must be at least 1, found \(channels)") }
        guard (image == nil) != (tensor == nil) else { throw ValidationError("give either an IMAGE or --tensor X.npy") }
        guard !(all && !layer.isEmpty) else { throw ValidationError("--all and --layer exclude each other") }
    }

    struct Manifest: Encodable {
        /// The model's file, or "<embedded shapes model>".
        var model: String
        var input: String
        var layers: [ActivationDump.Layer]
        var npz: String
        var report: String
    }

    func run() throws {
        try CNNVizCommand.reportingErrors {
            let session = try modelOptions.loadImageSession()
            let source = image ?? tensor!
            let input = try preprocessing.tensor(image: image, tensor: tensor, session: session)
            let names = layer.isEmpty ? nil : try layer.map { try session.resolveTensorName($0) }
            let directory = URL(fileURLWithPath: out ?? "reports/\(URL(fileURLWithPath: source).deletingPathExtension().lastPathComponent)/activations")
            try createOutputDirectory(directory)
            var dump = ActivationDump(session: session)
            dump.channels = channels
            dump.formats = try OutputFormat.list(format)
            let (layers, npz, report) = try dump.write(input: input, names: names, source: source, to: directory)
            let manifest = Manifest(model: session.model.source, input: source, layers: layers, npz: npz.path, report: report.path)
            if json {
                try printJSON(manifest)
            } else {
                for layer in layers { print("\(layer.name) \(layer.statistics.shape) → \(layer.npy)") }
                print("all layers → \(npz.path)\nreport → \(report.path)")
            }
        }
    }
}
