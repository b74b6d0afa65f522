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

    @OptionGroup var dataset: DatasetOptions

    @Option(name: .long, help: "Use this NCHW float32 .npy as the input instead of an image.")
    var tensor: String?

    @Option(name: .long, help: "A layer (tensor or node name) to dump; repeatable. Default: every layer (--all).")
    var layer: [String] = []

    @Flag(name: .long, help: "Dump every tensor the graph computes.")
    var all = false

    @OptionGroup var preprocessing: PreprocessOptions

    @Option(name: .long, help: "Where files go. One input: DIR itself (default reports/<input stem>/activations). Several: DIR/<path relative to their common folder, without extension>/ (default DIR: reports).")
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
        guard dataset.isEmpty != (tensor == nil) else { throw ValidationError("give images (folders, globs, --manifest) or --tensor X.npy") }
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

    /// A dataset's dumps, one per input, and the inputs that failed.
    struct DatasetManifest: Encodable {
        var model: String
        var inputs: [Manifest]
        var failures: [DatasetRecord.Failure]
    }

    func run() throws {
        try CNNVizCommand.reportingErrors {
            let session = try modelOptions.loadImageSession()
            let names = layer.isEmpty ? nil : try layer.map { try session.resolveTensorName($0) }
            var dump = ActivationDump(session: session)
            dump.channels = channels
            dump.formats = try OutputFormat.list(format)
            let (items, isDataset, _) = try tensor.map { ([(0, DatasetItem(path: $0, key: $0))], false, .whole) } ?? dataset.items()
            var manifests = [Manifest]()
            let failures = try dataset.forEach(items, isDataset: isDataset) { _, item in
                let source = item.path
                let input = try preprocessing.tensor(image: tensor == nil ? source : nil, tensor: tensor, session: session)
                let stem = URL(fileURLWithPath: source).deletingPathExtension().lastPathComponent
                let directory = URL(fileURLWithPath: isDataset ? (out ?? "reports") + "/" + item.key : out ?? "reports/\(stem)/activations")
                try createOutputDirectory(directory)
                let (layers, npz, report) = try dump.write(input: input, names: names, source: source, to: directory)
                manifests.append(Manifest(model: session.model.source, input: source, layers: layers, npz: npz.path, report: report.path))
            }
            if json {
                if isDataset { try printJSON(DatasetManifest(model: session.model.source, inputs: manifests, failures: failures)) } else { try printJSON(manifests[0]) }
            } else {
                for manifest in manifests {
                    if !isDataset { for layer in manifest.layers { print("\(layer.name) \(layer.statistics.shape) → \(layer.npy)") } }
                    print("\(isDataset ? manifest.input + ": " : "all layers → ")\(manifest.npz)\nreport → \(manifest.report)")
                }
            }
            if !failures.isEmpty {
                FileHandle.standardError.write(Data("activations: \(manifests.count) done, \(failures.count) failed of \(items.count) inputs\n".utf8))
                throw ExitCode(DatasetOptions.someInputsFailed)
            }
        }
    }
}
