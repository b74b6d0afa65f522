import Foundation

/// The index of several `ImageReport` pages: one link per image with its top prediction.
public enum ReportIndexPage {
    /// `pages` gives each image, its report's path relative to the index, and its top prediction.
    public static func document(_ pages: [(image: String, link: String, top: ImageReport.Prediction?)]) -> HTMLDocument {
        var page = HTMLDocument(title: "cnn-viz reports")
        let rows = pages.map { entry in
            "<li><a href=\"\(HTMLDocument.escape(entry.link))\">\(HTMLDocument.escape(entry.image))</a>: "
                + HTMLDocument.escape(entry.top.map { "\($0.label) (\(String(format: "%.3f", $0.score)))" } ?? "") + "</li>"
        }
        page.addSection("Images", body: "<ul>\(rows.joined())</ul>")
        return page
    }
}
