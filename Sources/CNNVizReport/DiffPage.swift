import CNNVizRender
import CNNVizRuntime
import Foundation

/// `cnn-viz diff` as a self-contained HTML page: the per-layer table, SQNR against depth as an
/// inline SVG line chart, and for the worst layers heat maps of Σ_c |a − b| beside the two
/// activations (mean over channels, drawn on one shared scale so that they compare).
public enum DiffPage {
    /// The page. `tensors(name)` gives (A, B) for a layer, read only for the worst ones.
    public static func document(mode: String, layers: [LayerDifference], firstFailure: String?, worstCount: Int = 3,
                                tensors: (LayerDifference) throws -> (Tensor, Tensor)?) throws -> HTMLDocument {
        var document = HTMLDocument(title: "Activation diff: \(mode)")
        let verdict = firstFailure.map { "first failing layer: \($0)" } ?? "every layer within tolerance"
        document.addSection("Summary", body: "<p>\(HTMLDocument.escape("\(layers.count) layers compared; \(verdict)."))</p>")
        document.addSection("SQNR against depth", body: sqnrChart(layers))
        var figures = [String]()
        for layer in worst(layers, count: worstCount) {
            guard let (a, b) = try tensors(layer) else { continue }
            figures.append(try heatMaps(layer, a: a, b: b))
        }
        if !figures.isEmpty { document.addSection("Worst layers (lowest SQNR)", body: figures.joined(separator: "\n")) }
        let rows = layers.map { layer -> [String] in
            [layer.name + (layer.matched.map { " → \($0)" } ?? ""), "[" + layer.shape.map(String.init).joined(separator: ",") + "]",
             String(format: "%.3g", layer.maxAbs), String(format: "%.3g", layer.meanAbs),
             layer.relativeL2.map { String(format: "%.3g", $0) } ?? "inf", String(format: "%.6f", layer.cosine),
             layer.sqnrDB.map { String(format: "%.1f", $0) } ?? "identical", layer.pass ? "yes" : "NO"]
        }
        document.addSection("Layers in topological order", body: HTMLDocument.table(
            header: ["layer", "shape", "max |a−b|", "mean |a−b|", "rel L2", "cosine", "SQNR dB", "pass"], rows: rows))
        return document
    }

    /// The 4-D layers with a spatial extent (more than 1×1: a pooled vector drawn as one pixel
    /// says nothing) that differ, lowest SQNR first.
    static func worst(_ layers: [LayerDifference], count: Int) -> [LayerDifference] {
        Array(layers.filter { $0.shape.count == 4 && $0.shape[2] * $0.shape[3] > 1 && $0.sqnrDB != nil }
            .sorted { $0.sqnrDB! < $1.sqnrDB! }.prefix(count))
    }

    /// SQNR (dB) per layer against its position, as an SVG polyline; identical layers sit on
    /// the top edge marked ∞, failing layers are red.
    static func sqnrChart(_ layers: [LayerDifference]) -> String {
        let values = layers.compactMap(\.sqnrDB)
        guard !layers.isEmpty, let low = values.min(), let high = values.max() else {
            return "<p>Every layer is identical in both runs: no SQNR to draw.</p>"
        }
        let width = 760.0, height = 260.0, left = 50.0, right = 12.0, top = 14.0, bottom = 34.0
        let floor = Swift.min(0, (low / 10).rounded(.down) * 10), ceiling = Swift.max(floor + 10, (high / 10).rounded(.up) * 10)
        func x(_ index: Int) -> Double { left + (width - left - right) * Double(index) / Double(Swift.max(layers.count - 1, 1)) }
        func y(_ value: Double) -> Double { top + (height - top - bottom) * (1 - (value - floor) / (ceiling - floor)) }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-size=\"11\" font-family=\"sans-serif\">"
        let step = Swift.max(10, ((ceiling - floor) / 5 / 10).rounded(.up) * 10)
        for tick in stride(from: floor, through: ceiling, by: step) {
            svg += String(format: "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#e4e4e4\"/>", left, width - right, y(tick), y(tick))
            svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.0f</text>", left - 4, y(tick) + 4, tick)
        }
        svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">layer (topological order) →</text>", (left + width) / 2, height - 6)
        svg += String(format: "<text x=\"12\" y=\"%.1f\" transform=\"rotate(-90 12 %.1f)\" text-anchor=\"middle\">SQNR dB</text>", height / 2, height / 2)
        let points = layers.enumerated().compactMap { index, layer in layer.sqnrDB.map { String(format: "%.1f,%.1f", x(index), y($0)) } }
        svg += "<polyline fill=\"none\" stroke=\"#3b6fb6\" stroke-width=\"1.5\" points=\"\(points.joined(separator: " "))\"/>"
        for (index, layer) in layers.enumerated() {
            let value = layer.sqnrDB.map { String(format: "%.1f dB", $0) } ?? "identical"
            let cy = layer.sqnrDB.map(y) ?? top
            svg += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%@\">", x(index), cy, layer.pass ? "#3b6fb6" : "#d62728")
            svg += "<title>\(HTMLDocument.escape("\(layer.name): \(value)"))</title></circle>"
        }
        return svg + "</svg>"
    }

    /// Σ_c |a − b| on its own scale, then the channel means of A and of B on one shared scale.
    static func heatMaps(_ layer: LayerDifference, a: Tensor, b: Tensor) throws -> String {
        let (channels, height, width) = (a.shape[1], a.shape[2], a.shape[3])
        let plane = height * width
        var difference = [Float](repeating: 0, count: plane), meanA = difference, meanB = difference
        let av = a.floats, bv = b.floats
        for c in 0..<channels {
            for p in 0..<plane {
                difference[p] += abs(av[c * plane + p] - bv[c * plane + p])
                meanA[p] += av[c * plane + p] / Float(channels)
                meanB[p] += bv[c * plane + p] / Float(channels)
            }
        }
        func scaled(_ values: [Float], low: Float, high: Float) -> Tensor {
            Tensor(shape: [height, width], floats: values.map { high > low ? ($0 - low) / (high - low) : 0 })
        }
        let low = Swift.min(meanA.min()!, meanB.min()!), high = Swift.max(meanA.max()!, meanB.max()!)
        let scale = Swift.max(1, 160 / Swift.max(width, height))
        var cells = [String]()
        for (title, map) in [("Σ_c |a − b|", scaled(difference, low: 0, high: difference.max()!)),
                             ("A, channel mean", scaled(meanA, low: low, high: high)),
                             ("B, channel mean", scaled(meanB, low: low, high: high))] {
            let image = try Overlay.heatMap(map, colormap: title.hasPrefix("Σ") ? .inferno : .viridis)
            var picture = Picture(width: width * scale, height: height * scale)
            picture.addImage(image, x: 0, y: 0, scale: scale)
            cells.append(HTMLDocument.figure(png: try picture.encoded(as: .png), caption: title))
        }
        let sqnr = layer.sqnrDB.map { String(format: "%.1f dB", $0) } ?? "identical"
        return "<div><h3>\(HTMLDocument.escape("\(layer.name) \(layer.shape), SQNR \(sqnr)"))</h3>\(cells.joined())</div>"
    }
}
