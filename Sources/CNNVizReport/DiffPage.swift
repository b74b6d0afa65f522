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

    /// The 4-D layers with a spatial extent that differ, lowest SQNR first.
    static func worst(_ layers: [LayerDifference], count: Int) -> [LayerDifference] {
        Array(layers.filter { hasSpatialExtent($0) && $0.sqnrDB != nil }.sorted { $0.sqnrDB! < $1.sqnrDB! }.prefix(count))
    }

    /// A 4-D layer larger than 1×1: a pooled vector drawn as one pixel says nothing.
    static func hasSpatialExtent(_ layer: LayerDifference) -> Bool {
        layer.shape.count == 4 && layer.shape[2] * layer.shape[3] > 1
    }

    /// One line of the SQNR chart: a value per layer (nil: identical, drawn on the top edge).
    struct SQNRSeries {
        var label: String
        var color: String
        var values: [Double?]
    }

    static func sqnrChart(_ layers: [LayerDifference]) -> String {
        sqnrChart(names: layers.map(\.name), series: [SQNRSeries(label: "SQNR", color: "#3b6fb6", values: layers.map(\.sqnrDB))],
                  passes: layers.map(\.pass))
    }

    /// SQNR (dB) per layer against its position, as SVG polylines, one per series; identical
    /// layers sit on the top edge, failing layers' points are red.
    static func sqnrChart(names: [String], series: [SQNRSeries], passes: [Bool]) -> String {
        let values = series.flatMap { $0.values.compactMap { $0 } }
        guard !names.isEmpty, let low = values.min(), let high = values.max() else {
            return "<p>Every layer is identical in both runs: no SQNR to draw.</p>"
        }
        let width = 760.0, height = 260.0, left = 50.0, right = 12.0, top = 14.0, bottom = 34.0
        let floor = Swift.min(0, (low / 10).rounded(.down) * 10), ceiling = Swift.max(floor + 10, (high / 10).rounded(.up) * 10)
        func x(_ index: Int) -> Double { left + (width - left - right) * Double(index) / Double(Swift.max(names.count - 1, 1)) }
        func y(_ value: Double) -> Double { top + (height - top - bottom) * (1 - (value - floor) / (ceiling - floor)) }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-size=\"11\" font-family=\"sans-serif\">"
        let step = Swift.max(10, ((ceiling - floor) / 5 / 10).rounded(.up) * 10)
        for tick in stride(from: floor, through: ceiling, by: step) {
            svg += String(format: "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#e4e4e4\"/>", left, width - right, y(tick), y(tick))
            svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.0f</text>", left - 4, y(tick) + 4, tick)
        }
        svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">layer (topological order) →</text>", (left + width) / 2, height - 6)
        svg += String(format: "<text x=\"12\" y=\"%.1f\" transform=\"rotate(-90 12 %.1f)\" text-anchor=\"middle\">SQNR dB</text>", height / 2, height / 2)
        for (number, line) in series.enumerated() {
            let points = line.values.enumerated().compactMap { index, value in value.map { String(format: "%.1f,%.1f", x(index), y($0)) } }
            svg += "<polyline fill=\"none\" stroke=\"\(line.color)\" stroke-width=\"1.5\" points=\"\(points.joined(separator: " "))\"/>"
            for (index, value) in line.values.enumerated() {
                let text = value.map { String(format: "%.1f dB", $0) } ?? "identical"
                svg += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%@\">", x(index), value.map(y) ?? top, passes[index] ? line.color : "#d62728")
                svg += "<title>\(HTMLDocument.escape("\(names[index]): \(line.label) \(text)"))</title></circle>"
            }
            if series.count > 1 {
                svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" fill=\"%@\">", width - right - 110, top + 12 + 14 * Double(number), line.color)
                svg += "\(HTMLDocument.escape(line.label))</text>"
            }
        }
        return svg + "</svg>"
    }

    /// The layer's histogram of |a − b| over ten bins of [0, max |a − b|], as SVG bars, with
    /// Polygraphy's statistics beneath.
    static func histogramChart(_ layer: LayerDifference) -> String {
        let width = 300.0, height = 120.0, bottom = 18.0, largest = Double(Swift.max(layer.histogram.max() ?? 1, 1))
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-size=\"10\" font-family=\"sans-serif\">"
        let barWidth = width / Double(Swift.max(layer.histogram.count, 1))
        for (bin, count) in layer.histogram.enumerated() {
            let barHeight = (height - bottom) * Double(count) / largest
            svg += String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#3b6fb6\"><title>%d</title></rect>",
                          Double(bin) * barWidth + 1, height - bottom - barHeight, barWidth - 2, barHeight, count)
        }
        svg += String(format: "<text x=\"0\" y=\"%.1f\">0</text><text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.3g = max |a−b|</text>",
                      height - 4, width, height - 4, layer.maxAbs)
        let statistics = String(format: "|a−b| mean %.3g, std %.3g, median %.3g, p90 %.3g, p95 %.3g, p99 %.3g; passes elementwise at atol %.3g",
                                layer.meanAbs, layer.stdAbs, layer.medianAbs, layer.p90Abs, layer.p95Abs, layer.p99Abs, layer.minimumAtol)
        return "<figure>\(svg)</svg><figcaption>\(HTMLDocument.escape(statistics))</figcaption></figure>"
    }

    /// Σ_c |a − b| on its own scale, then the channel means of A and of B on one shared scale.
    static func heatMaps(_ layer: LayerDifference, a: Tensor, b: Tensor, on image: String? = nil) throws -> String {
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
        let heading = "\(layer.name) \(layer.shape), SQNR \(sqnr)" + (image.map { " on \($0)" } ?? "")
        return "<div><h3>\(HTMLDocument.escape(heading))</h3>\(cells.joined())\(histogramChart(layer))</div>"
    }
}
