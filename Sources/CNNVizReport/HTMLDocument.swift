import CNNVizRuntime
import Foundation

/// One self-contained HTML page: inline CSS, images as `data:` URIs, no script, no network.
///
/// Pitfall: every piece of text that comes from a model or a file (layer names, labels,
/// paths) goes through `HTMLDocument.escape`, since ONNX names may hold `<`, `&` or quotes.
public struct HTMLDocument {
    public var title: String
    public private(set) var sections: [(title: String, body: String)] = []

    public init(title: String) { self.title = title }

    /// Text made safe for HTML content and attribute values.
    public static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            default: result.append(character)
            }
        }
        return result
    }

    /// A relative path as a link that stays relative: "./" and each segment percent-encoded
    /// but for RFC 3986's unreserved characters, so that a file named `javascript:x.png`, `#1`
    /// or `100%.png` is a path, never a scheme, a fragment or an escape.
    public static func relativeLink(_ path: String) -> String {
        var unreserved = CharacterSet.alphanumerics
        unreserved.insert(charactersIn: "-._~")
        return "./" + path.split(separator: "/", omittingEmptySubsequences: false)
            .map { String($0).addingPercentEncoding(withAllowedCharacters: unreserved) ?? "" }.joined(separator: "/")
    }

    /// A section with a heading; `body` is HTML that the caller built from escaped parts.
    public mutating func addSection(_ title: String, body: String) {
        sections.append((title, body))
    }

    /// `<figure>` holding a PNG as a data URI, with an escaped caption.
    public static func figure(png: Data, caption: String, width: Int? = nil) -> String {
        let size = width.map { " width=\"\($0)\"" } ?? ""
        return "<figure><img src=\"data:image/png;base64,\(png.base64EncodedString())\"\(size) alt=\"\(escape(caption))\">"
            + "<figcaption>\(escape(caption))</figcaption></figure>"
    }

    /// A table from a header row and rows of plain text cells (escaped here).
    public static func table(header: [String], rows: [[String]]) -> String {
        let head = header.map { "<th>\(escape($0))</th>" }.joined()
        let body = rows.map { row in "<tr>" + row.map { "<td>\(escape($0))</td>" }.joined() + "</tr>" }.joined(separator: "\n")
        return "<table><thead><tr>\(head)</tr></thead><tbody>\n\(body)\n</tbody></table>"
    }

    /// Horizontal bars, one per (label, value in [0, 1]), drawn with CSS widths only.
    public static func barChart(_ bars: [(label: String, value: Double)]) -> String {
        let rows = bars.map { bar in
            let percent = max(0, min(100, bar.value * 100))
            return "<div class=\"bar\"><span class=\"label\">\(escape(bar.label))</span>"
                + "<span class=\"track\"><span class=\"fill\" style=\"width:\(String(format: "%.2f", percent))%\"></span></span>"
                + "<span class=\"value\">\(String(format: "%.4f", bar.value))</span></div>"
        }
        return "<div class=\"bars\">\(rows.joined())</div>"
    }

    static let style = """
        body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em;color:#222;background:#fff;max-width:1400px}
        h1{font-size:1.5em}h2{font-size:1.2em;border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
        figure{display:inline-block;margin:.5em;vertical-align:top;text-align:center}
        figcaption{font-size:.8em;color:#555;max-width:420px;overflow-wrap:anywhere}
        img{image-rendering:pixelated;border:1px solid #ccc}
        table{border-collapse:collapse;font-size:.85em}td,th{border:1px solid #ddd;padding:.2em .5em;text-align:left}
        th{background:#f4f4f4}.bars{max-width:640px}.bar{display:flex;align-items:center;margin:.15em 0;font-size:.85em}
        .bar .label{width:16em;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
        .bar .track{flex:1;background:#eee;height:.9em;margin:0 .5em}.bar .fill{display:block;height:100%;background:#3b6fb6}
        .bar .value{width:5em;text-align:right;font-variant-numeric:tabular-nums}footer{margin-top:2em;font-size:.75em;color:#777}
        """

    /// The whole page.
    public func render() -> String {
        var html = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        html += "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
        html += "<title>\(Self.escape(title))</title><style>\(Self.style)</style></head><body>\n"
        html += "<h1>\(Self.escape(title))</h1>\n"
        for section in sections {
            html += "<section><h2>\(Self.escape(section.title))</h2>\n\(section.body)\n</section>\n"
        }
        html += "<footer>Written by cnn-viz. Self-contained: no scripts, no network requests.</footer>\n</body></html>\n"
        return html
    }

    /// Writes the page atomically (a temporary file beside it, then a rename; see `AtomicFile`).
    public func write(to url: URL) throws {
        try AtomicFile.write(Data(render().utf8), to: url)
    }
}
