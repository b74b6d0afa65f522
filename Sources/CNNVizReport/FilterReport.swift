import CNNVizRender
import CNNVizRuntime
import Foundation

/// What `cnn-viz filters` writes, as a library call: the Conv filters of one model as grids,
/// or of several checkpoints of one network side by side per layer (filter evolution), with
/// each layer's low-frequency share (`FilterSpectrum`), and an HTML page of them all.
public struct FilterReport {
    public struct Entry: Encodable, Sendable {
        public var model: String
        public var layer: String
        public var weights: String
        public var shape: [Int]
        /// FilterSpectrum.lowFrequencyShare, for kernels of at least 4×4.
        public var lowFrequencyShare: Double?
        public var files: [String]
    }

    /// One model, or checkpoints of one network in order.
    public var sessions: [Session]
    /// Conv layers by node name, output tensor or weight name; empty: every Conv.
    public var layers: [String] = []
    public var grid = FilterGrid.Options()
    public var formats: [OutputFormat] = [.png]

    public init(sessions: [Session]) { self.sessions = sessions }

    /// The Conv nodes asked for: by node name, output tensor or weight initializer name.
    public static func convolutions(_ session: Session, named names: [String]) throws -> [Node] {
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

    /// Checks that every model has the asked layers, before anything is written.
    public func validate() throws {
        for session in sessions { _ = try Self.convolutions(session, named: layers) }
    }

    /// Writes the pictures and `filters.html` into `directory`.
    public func write(to directory: URL) throws -> (entries: [Entry], report: URL) {
        let names = sessions.map { URL(fileURLWithPath: $0.model.source).lastPathComponent }
        var entries = [Entry]()
        var figures = [String]()
        var columnsByLayer = [(layer: String, columns: [(caption: [String], picture: Picture)])]()
        for (session, modelName) in zip(sessions, names) {
            for (position, node) in try Self.convolutions(session, named: layers).enumerated() {
                let weights = session.graph.initializers[node.inputs[1]]!
                let name = node.name.isEmpty ? node.outputs[0] : node.name
                let picture = try FilterGrid(weights: weights, layerName: name, options: grid)
                let share = FilterSpectrum.lowFrequencyShare(weights)
                var files = [URL]()
                if sessions.count == 1 {
                    files = try picture.picture.write(to: directory.appendingPathComponent(fileStem(for: name)), formats: formats)
                    figures.append(HTMLDocument.figure(png: try picture.picture.encoded(as: .png), caption: picture.title))
                } else {
                    if position == columnsByLayer.count { columnsByLayer.append((name, [])) }
                    let caption = [modelName] + (share.map { [String(format: "low-frequency share %.2f", $0)] } ?? [])
                    columnsByLayer[position].columns.append((caption, picture.picture))
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
        var document = HTMLDocument(title: sessions.count == 1 ? "Filters of \(names[0])" : "Filter evolution: \(names.joined(separator: " → "))")
        document.addSection("Conv filters", body: figures.joined(separator: "\n"))
        let shares = entries.compactMap { entry in
            entry.lowFrequencyShare.map { [URL(fileURLWithPath: entry.model).lastPathComponent, entry.layer, String(format: "%.3f", $0)] }
        }
        if !shares.isEmpty {
            document.addSection("Low-frequency share", body: HTMLDocument.table(header: ["model", "layer", "share"], rows: shares))
        }
        let report = directory.appendingPathComponent("filters.html")
        try document.write(to: report)
        return (entries, report)
    }
}
