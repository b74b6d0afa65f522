import ArgumentParser
import CNNVizRender
import CNNVizReport
import CNNVizRuntime
import Foundation

struct FiltersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "filters",
        abstract: "Draw conv filters as grids: first-layer RGB filters as colour tiles, deeper ones per (out, in) pair or averaged."
    )

    @OptionGroup var modelOptions: ModelOptions

    @Option(name: .long, help: "A Conv layer (node name, output tensor or weight name); repeatable. Default: every Conv.")
    var layer: [String] = []

    @Flag(name: .long, help: "Deeper layers: one tile per output filter, the mean over its input channels.")
    var mean = false

    @Flag(name: .long, help: "The first layer reads BGR input (Caffe models such as SqueezeNet): swap to RGB for the colour tiles.")
    var bgr = false

    @Option(name: .long, help: "Picture formats, comma-separated: png, pdf, svg.")
    var format: String = "png"

    @Option(name: .long, help: "Where files go. Default: reports/<model stem>/filters.")
    var out: String?

    @Flag(name: .long, help: "Print a JSON manifest on stdout.")
    var json = false

    func validate() throws { _ = try OutputFormat.list(format) }

    struct Entry: Encodable {
        var layer: String
        var weights: String
        var shape: [Int]
        var files: [String]
    }

    struct Manifest: Encodable {
        var filters: [Entry]
        var report: String
    }

    /// The Conv nodes asked for: by node name, output tensor or weight initializer name.
    static func convolutions(_ session: Session, named names: [String]) throws -> [Node] {
        let convs = session.graph.nodes.filter { $0.opType == "Conv" && $0.inputs.count > 1 && session.graph.initializers[$0.inputs[1]] != nil }
        if names.isEmpty { return convs }
        return try names.map { name in
            if let node = convs.first(where: { $0.name == name || $0.outputs.contains(name) || $0.inputs[1] == name }) { return node }
            let available = convs.prefix(8).map { $0.name.isEmpty ? $0.outputs[0] : $0.name }
            throw CNNVizError(.unknownTensor,
                              "no Conv layer with constant weights named '\(name)'; Conv layers include: \(available.joined(separator: ", "))",
                              location: session.model.source)
        }
    }

    func run() throws {
        try CNNVizCommand.reportingErrors {
            let session = try modelOptions.loadSession()
            let formats = try OutputFormat.list(format)
            let nodes = try FiltersCommand.convolutions(session, named: layer)
            let stem = URL(fileURLWithPath: session.model.source).deletingPathExtension().lastPathComponent
            let directory = URL(fileURLWithPath: out ?? "reports/\(stem)/filters")
            try createOutputDirectory(directory)
            var document = HTMLDocument(title: "Filters of \(URL(fileURLWithPath: session.model.source).lastPathComponent)")
            var entries = [Entry]()
            var figures = [String]()
            for node in nodes {
                let weights = session.graph.initializers[node.inputs[1]]!
                let name = node.name.isEmpty ? node.outputs[0] : node.name
                var options = FilterGrid.Options()
                if mean { options.mode = .meanOverInputs }
                if bgr { options.inputChannelOrder = .bgr }
                let grid = try FilterGrid(weights: weights, layerName: name, options: options)
                let files = try grid.picture.write(to: directory.appendingPathComponent(fileStem(for: name)), formats: formats)
                figures.append(HTMLDocument.figure(png: try grid.picture.encoded(as: .png), caption: grid.title))
                entries.append(Entry(layer: name, weights: node.inputs[1], shape: weights.shape, files: files.map(\.path)))
            }
            document.addSection("Conv filters", body: figures.joined(separator: "\n"))
            let report = directory.appendingPathComponent("filters.html")
            try document.write(to: report)
            if json {
                try printJSON(Manifest(filters: entries, report: report.path))
            } else {
                for entry in entries { print("\(entry.layer) \(entry.shape) → \(entry.files.joined(separator: ", "))") }
                print("report → \(report.path)")
            }
        }
    }
}
