import Foundation

/// `cnn-viz diff` over a dataset as a self-contained HTML page: the verdict and the outputs'
/// agreement, SQNR against depth (median and worst over the images), the most blamed layers
/// with their histograms of |a − b| and heat maps on the image where each is worst, the
/// recommendation (onnxruntime's `nodes_to_exclude`), and the per-layer table.
public enum DatasetDiffPage {
    /// The page; `imageName(k)` names image k (its path) in captions and the skipped list.
    public static func document(_ summary: DatasetComparison.Summary, imageName: (Int) -> String) throws -> HTMLDocument {
        var document = HTMLDocument(title: "Activation diff over \(summary.images) images")
        let verdict = summary.firstFailure.map { "first failing layer: \($0)" } ?? "every layer within tolerance on every image"
        var overview = "\(summary.layers.count) layers compared on \(summary.images) images; \(verdict). "
            + String(format: "Top-1 agreement %d/%d; mean KL(A ‖ B) of the outputs %.3g.", summary.top1Agreement, summary.images, summary.meanKLDivergence)
        if !summary.skipped.isEmpty { overview += " Skipped (could not be compared): " + summary.skipped.map(imageName).joined(separator: ", ") + "." }
        document.addSection("Summary", body: "<p>\(HTMLDocument.escape(overview))</p>")
        document.addSection("SQNR against depth", body: DiffPage.sqnrChart(
            names: summary.layers.map(\.name),
            series: [DiffPage.SQNRSeries(label: "median", color: "#3b6fb6", values: summary.layers.map(\.medianSQNR)),
                     DiffPage.SQNRSeries(label: "worst image", color: "#e07b00", values: summary.layers.map(\.worstSQNR))],
            passes: summary.layers.map(\.pass)))
        document.addSection("Recommendation", body: recommendation(summary))
        if !summary.figures.isEmpty {
            let figures = try summary.figures.map { try DiffPage.heatMaps($0.layer, a: $0.a, b: $0.b, on: imageName($0.image)) }
            document.addSection("Most blamed layers, on their worst image", body: figures.joined(separator: "\n"))
        }
        func decibels(_ value: Double?) -> String { value.map { String(format: "%.1f", $0) } ?? "identical" }
        let rows = summary.layers.map { layer in
            [layer.name, decibels(layer.medianSQNR), decibels(layer.worstSQNR), layer.worstImage.map(imageName) ?? "",
             layer.medianAddedSQNR.map { String(format: "%.1f", $0) } ?? "", layer.pass ? "yes" : "NO"]
        }
        document.addSection("Layers in topological order", body: HTMLDocument.table(
            header: ["layer", "median SQNR dB", "worst SQNR dB", "worst image", "median added SQNR dB", "pass"], rows: rows))
        return document
    }

    /// The blame ranking's head and what to keep in float.
    static func recommendation(_ summary: DatasetComparison.Summary) -> String {
        let ranked = summary.blame.prefix(5).map { layer in
            "<li>\(HTMLDocument.escape(layer.name + (layer.medianAddedSQNR.map { String(format: ": adds %.1f dB (median)", $0) } ?? ": adds nothing")))</li>"
        }
        var body = ranked.isEmpty ? "" : "<p>Layers by the median error they add alone (B's layer on A's inputs):</p><ol>\(ranked.joined())</ol>"
        if summary.nodesToExclude.isEmpty {
            body += String(format: "<p>No layer adds more error alone than the check allows (SQNR below %.0f dB): nothing to keep in float.</p>", summary.check.blameFloor)
        } else {
            let list = "[" + summary.nodesToExclude.map { "\"\($0)\"" }.joined(separator: ", ") + "]"
            body += "<p>Keep these nodes in float when requantizing (onnxruntime's <code>quantize_static(..., nodes_to_exclude=…)</code>):</p>"
                + "<pre>nodes_to_exclude = \(HTMLDocument.escape(list))</pre>"
        }
        return body
    }
}
