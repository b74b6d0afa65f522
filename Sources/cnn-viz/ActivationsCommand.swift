import ArgumentParser
import CNNVizImaging
import CNNVizRender
import CNNVizReport
import CNNVizRuntime
import Foundation

struct ActivationsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "activations",
        abstract: "Dump feature maps: each layer as .npy, all of them as one .npz, statistics and an HTML report."
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

    struct Layer: Encodable {
        var name: String
        var npy: String
        /// Feature-map grid files (4-D layers with more than one pixel).
        var grids: [String]
        var statistics: LayerStatistics
    }

    struct Manifest: Encodable {
        var input: String
        var layers: [Layer]
        var npz: String
        var report: String
    }

    func run() throws {
        try CNNVizCommand.reportingErrors {
            let session = try modelOptions.loadImageSession()
            let source = image ?? tensor!
            let input = try preprocessing.tensor(image: image, tensor: tensor, session: session)
            let names = layer.isEmpty ? session.graph.tensorNames : try layer.map { try session.resolveTensorName($0) }
            let values = try session.run([session.graph.inputs[0].name: input], outputs: names)
            let directory = URL(fileURLWithPath: out ?? "reports/\(URL(fileURLWithPath: source).deletingPathExtension().lastPathComponent)/activations")
            try createOutputDirectory(directory)
            let formats = try OutputFormat.list(format)
            var layers = [Layer]()
            var figures = [String]()
            for name in names {
                let tensor = values[name]!
                let url = directory.appendingPathComponent(fileStem(for: name) + ".npy")
                try NumpyFile.write(tensor.isFloatingPoint ? tensor.relabelled(as: .float32) : tensor, to: url)
                var grids = [String]()
                if tensor.isFloatingPoint && tensor.rank == 4 && tensor.shape[2] * tensor.shape[3] > 1 {
                    var options = FeatureMapGrid.Options()
                    options.maximumChannels = channels
                    let grid = try FeatureMapGrid(activations: tensor, layerName: name, options: options)
                    grids = try grid.picture.write(to: directory.appendingPathComponent(fileStem(for: name) + "_grid"), formats: formats)
                        .map(\.path)
                    figures.append(HTMLDocument.figure(png: try grid.picture.encoded(as: .png), caption: grid.title))
                }
                layers.append(Layer(name: name, npy: url.path, grids: grids, statistics: LayerStatistics(name: name, tensor: tensor)))
            }
            let npz = directory.appendingPathComponent("activations.npz")
            try NumpyArchive.write(names.map { ($0, values[$0]!) }, to: npz)
            var document = HTMLDocument(title: "Activations of \(URL(fileURLWithPath: source).lastPathComponent)")
            document.addSection("Model", body: HTMLDocument.table(header: ["file", "opset", "inputs"], rows: [[
                session.model.source, "\(session.model.opsetVersion)",
                session.graph.inputs.map { "\($0.name) \($0.shapeDescription)" }.joined(separator: ", "),
            ]]))
            document.addSection("Layer statistics", body: HTMLDocument.table(
                header: ["layer", "shape", "mean", "std", "min", "max", "zeros", "dead channels"],
                rows: layers.map { layer in
                    let s = layer.statistics
                    return [s.name, "\(s.shape)", String(format: "%.4g", s.mean), String(format: "%.4g", s.standardDeviation),
                            String(format: "%.4g", s.minimum), String(format: "%.4g", s.maximum),
                            String(format: "%.1f%%", 100 * s.zeroFraction), "\(s.deadChannels.count)"]
                }))
            document.addSection("Feature maps (the \(channels) strongest channels by mean activation)", body: figures.joined(separator: "\n"))
            let report = directory.appendingPathComponent("activations.html")
            try document.write(to: report)
            let manifest = Manifest(input: source, layers: layers, npz: npz.path, report: report.path)
            if json {
                try printJSON(manifest)
            } else {
                for layer in layers { print("\(layer.name) \(layer.statistics.shape) → \(layer.npy)") }
                print("all layers → \(npz.path)\nreport → \(report.path)")
            }
        }
    }
}
