import ArgumentParser
import CNNVizRender
import CNNVizReport
import CNNVizRuntime
import Foundation

struct FiltersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "filters",
        abstract: "Draw conv filters as grids: first-layer RGB filters as colour tiles, deeper ones per (out, in) pair or averaged.",
        discussion: """
        With several --model (checkpoints of one network), each layer is drawn once per model, \
        side by side in one picture (filter evolution), with each model's low-frequency share: the \
        part of the filters' spectral energy in the constant and first harmonics, about \
        9/(k·k) for random k×k filters and near 1 for smooth blobs and edges.
        """
    )

    @Option(name: .long, parsing: .singleValue,
            help: "An ONNX model; repeat it to draw the same layers across training checkpoints, one row per model. Default: the embedded shapes model.")
    var model: [String] = []

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
        var model: String
        var layer: String
        var weights: String
        var shape: [Int]
        /// FilterSpectrum.lowFrequencyShare, for kernels of at least 4×4.
        var lowFrequencyShare: Double?
        var files: [String]
    }

    struct Manifest: Encodable {
        var filters: [Entry]
        var report: String
    }

    /// The Conv nodes asked for: by node name, output tensor or weight initializer name.
    static func convolutions(_ session: Session, named names: [String]) throws -> [Node] {
        let convs = session.graph.nodes.filter { $0.opType == "Conv" && $0.inputs.count > 1 && session.graph.initializers[$0.inputs[1]] != nil }
        guard !convs.isEmpty else {
            throw CNNVizError(.invalidArgument, "the model has no Conv layer with constant weights: there are no filters to draw", location: session.model.source)
        }
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
            let sessions = try model.isEmpty ? [ModelOptions(model: nil).loadSession()] : model.map { try ModelOptions(model: $0).loadSession() }
            let formats = try OutputFormat.list(format)
            let names = sessions.map { URL(fileURLWithPath: $0.model.source).lastPathComponent }
            let stem = URL(fileURLWithPath: sessions[0].model.source).deletingPathExtension().lastPathComponent
            let directory = URL(fileURLWithPath: out ?? "reports/\(stem)/filters")
            try createOutputDirectory(directory)
            let title = sessions.count == 1 ? "Filters of \(names[0])" : "Filter evolution: \(names.joined(separator: " → "))"
            var document = HTMLDocument(title: title)
            var entries = [Entry]()
            var figures = [String]()
            var columnsByLayer = [(layer: String, columns: [(caption: [String], picture: Picture)])]()
            for (session, modelName) in zip(sessions, names) {
                for (position, node) in try FiltersCommand.convolutions(session, named: layer).enumerated() {
                    let weights = session.graph.initializers[node.inputs[1]]!
                    let name = node.name.isEmpty ? node.outputs[0] : node.name
                    var options = FilterGrid.Options()
                    if mean { options.mode = .meanOverInputs }
                    if bgr { options.inputChannelOrder = .bgr }
                    let grid = try FilterGrid(weights: weights, layerName: name, options: options)
                    let share = FilterSpectrum.lowFrequencyShare(weights)
                    var files = [URL]()
                    if sessions.count == 1 {
                        files = try grid.picture.write(to: directory.appendingPathComponent(fileStem(for: name)), formats: formats)
                        figures.append(HTMLDocument.figure(png: try grid.picture.encoded(as: .png), caption: grid.title))
                    } else {
                        if position == columnsByLayer.count { columnsByLayer.append((name, [])) }
                        let caption = [modelName] + (share.map { [String(format: "low-frequency share %.2f", $0)] } ?? [])
                        columnsByLayer[position].columns.append((caption, grid.picture))
                    }
                    entries.append(Entry(model: session.model.source, layer: name, weights: node.inputs[1], shape: weights.shape,
                                         lowFrequencyShare: share, files: files.map(\.path)))
                }
            }
            for (name, columns) in columnsByLayer {
                let picture = Picture.sideBySide(columns)
                let files = try picture.write(to: directory.appendingPathComponent("\(fileStem(for: name))_evolution"), formats: formats)
                figures.append(HTMLDocument.figure(png: try picture.encoded(as: .png), caption: "\(name) across \(columns.count) models"))
                for index in entries.indices where entries[index].layer == name { entries[index].files = files.map(\.path) }
            }
            document.addSection("Conv filters", body: figures.joined(separator: "\n"))
            let shares = entries.compactMap { entry in
                entry.lowFrequencyShare.map { [URL(fileURLWithPath: entry.model).lastPathComponent, entry.layer, String(format: "%.3f", $0)] }
            }
            if !shares.isEmpty {
                document.addSection("Low-frequency share", body: HTMLDocument.table(header: ["model", "layer", "share"], rows: shares))
            }
            let report = directory.appendingPathComponent("filters.html")
            try document.write(to: report)
            if json {
                try printJSON(Manifest(filters: entries, report: report.path))
            } else {
                for entry in entries {
                    let share = entry.lowFrequencyShare.map { String(format: " low-frequency share %.3f", $0) } ?? ""
                    print("\(entry.model) \(entry.layer) \(entry.shape)\(share) → \(entry.files.joined(separator: ", "))")
                }
                print("report → \(report.path)")
            }
        }
    }
}
