import CNNVizAttribution
import CNNVizImaging
import CNNVizRender
import CNNVizRuntime
import Foundation

/// The files of a feature visualisation in one folder, as `cnn-viz visualize` writes them:
/// each objective's optimised image (`channel_3.png`, `negative_neuron_5_1.png`, …), `grid.png`
/// (every image, captioned with its objective), `channels.png` and `visualize.html` (the
/// `ChannelReport`), and `evolution.png` (one row per checkpoint) when there are checkpoints.
///
/// Each file is written atomically (`AtomicFile`), so an interrupted run leaves whole files or
/// none. Pitfall: the folder must exist; the caller checks first that no file here is an input.
public struct ChannelReportFiles: Sendable {
    public struct Image: Encodable, Sendable {
        public var objective: String
        public var image: String
        public var value: Float
    }

    /// One row of the evolution picture: a checkpoint's name and its optimised images.
    public typealias EvolutionRow = (label: String, images: Tensor, values: [Float])

    public var images: [Image]
    public var grid: URL
    public var picture: URL
    public var page: URL
    public var evolution: URL?

    /// Writes the files of `result` (the images of `request`'s objectives, `copies` per
    /// objective in a row) and of `report` into `directory`.
    public static func write(_ result: FeatureVisualizationResult, request: FeatureVisualizationRequest, copies: Int, report: ChannelReport,
                             evolution: [EvolutionRow], to directory: URL) throws -> ChannelReportFiles {
        var images = [Image]()
        for (index, objective) in request.objectives.enumerated() {
            let url = directory.appendingPathComponent(objective.fileName(copy: copies > 1 ? index % copies : nil))
            try AtomicFile.write(try PNGEncoder.encode(RGBImage(unitBatch: result.images, index: index)), to: url)
            images.append(Image(objective: objective.description, image: url.path, value: result.objectives[index]))
        }
        let grid = directory.appendingPathComponent("grid.png")
        let captions = zip(request.objectives, result.objectives).map { objective, value in objective.caption + String(format: " %.3g", value) }
        try AtomicFile.write(try ChannelGrid.png(images: result.images, captions: captions), to: grid)
        let picture = directory.appendingPathComponent("channels.png"), page = directory.appendingPathComponent("visualize.html")
        try AtomicFile.write(try report.picture().encoded(as: .png), to: picture)
        try report.document().write(to: page)
        var evolutionURL: URL?
        if !evolution.isEmpty {
            let url = directory.appendingPathComponent("evolution.png")
            try AtomicFile.write(try ChannelGrid.evolution(rows: evolution, columnTitles: request.objectives.map(\.caption)).encoded(as: .png), to: url)
            evolutionURL = url
        }
        return ChannelReportFiles(images: images, grid: grid, picture: picture, page: page, evolution: evolutionURL)
    }
}

extension VisualizationObjective {
    /// "channel_3.png", "neuron_3.png", "direction.png", with "negative_" in front for a
    /// negated objective and "_k" for the k-th copy.
    public func fileName(copy: Int?) -> String {
        let base: String
        switch kind {
        case .channel(let c): base = "channel_\(c)"
        case .neuron(let c, _, _): base = "neuron_\(c)"
        case .direction: base = "direction"
        }
        return (negated ? "negative_" : "") + base + (copy.map { "_\($0)" } ?? "") + ".png"
    }

    /// "3", "n3", "dir", with "−" in front for a negated objective: a grid's caption.
    public var caption: String {
        let base: String
        switch kind {
        case .channel(let c): base = "\(c)"
        case .neuron(let c, _, _): base = "n\(c)"
        case .direction: base = "dir"
        }
        return (negated ? "−" : "") + base
    }
}
