import CNNVizRender
import CNNVizRuntime
import Foundation

/// What `cnn-viz activations` writes, as a library call: each named tensor of one forward pass
/// as `.npy` (float tensors as float32), a feature-map grid per 4-D layer with more than one
/// pixel, all of them in one `.npz`, and an HTML page with per-layer statistics and the grids.
///
/// Pitfall: the tensors are all held in memory at once (one forward pass keeping every asked
/// tensor); for every layer of a large model at high resolution that is the sum of all
/// activations. `ActivationSpill` is the bounded-memory path that `diff` takes.
public struct ActivationDump {
    public struct Layer: Encodable, Sendable {
        public var name: String
        public var npy: String
        /// Feature-map grid files (4-D layers with more than one pixel).
        public var grids: [String]
        public var statistics: LayerStatistics
    }

    public var session: Session
    /// Channels per grid, the strongest by mean activation first.
    public var channels = 16
    public var formats: [OutputFormat] = [.png]

    public init(session: Session) { self.session = session }

    /// Runs `input` and writes `names` (nil: every tensor) into `directory`; returns the layers,
    /// the archive and the page. `source` names the input on the page.
    public func write(input: Tensor, names: [String]? = nil, source: String, to directory: URL) throws -> (layers: [Layer], npz: URL, report: URL) {
        let names = try names.map { try $0.map { try session.resolveTensorName($0) } } ?? session.graph.tensorNames
        let values = try session.run([session.graph.inputs[0].name: input], outputs: names)
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
                grids = try grid.picture.write(to: directory.appendingPathComponent(fileStem(for: name) + "_grid"), formats: formats).map(\.path)
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
        document.addSection("Layer statistics", body: LayerStatistics.table(layers.map(\.statistics)))
        document.addSection("Feature maps (the \(channels) strongest channels by mean activation)", body: figures.joined(separator: "\n"))
        let report = directory.appendingPathComponent("activations.html")
        try document.write(to: report)
        return (layers, npz, report)
    }
}
