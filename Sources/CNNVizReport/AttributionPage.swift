import Foundation

/// The page `gradcam` and `saliency` write per input: the method's overlay figures, or why
/// there is no picture.
public enum AttributionPage {
    /// `figures` are `HTMLDocument.figure` blocks; `source` names the input.
    public static func document(method: String, source: String, sectionTitle: String, figures: [String]) -> HTMLDocument {
        var document = HTMLDocument(title: "\(method) for \(URL(fileURLWithPath: source).lastPathComponent)")
        document.addSection(sectionTitle, body: figures.isEmpty
            ? "<p>No picture: the input is a tensor whose preprocessing cannot be inverted; give --display-image.</p>"
            : figures.joined(separator: "\n"))
        return document
    }
}
