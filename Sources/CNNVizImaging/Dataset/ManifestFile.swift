import CNNVizRuntime
import Foundation

/// A dataset manifest: which images, and their ground truth.
///
/// CSV (`.csv`): a header row naming the columns, `path` required, `label`, `box` and `mask`
/// optional; fields may be quoted ("…", "" for a quote). JSON Lines (`.jsonl`, `.ndjson`):
/// one object per line, `{"path": "cats/1.jpg", "label": "tabby", "box": [x0, y0, x1, y1],
/// "mask": "masks/1.png"}`. A box is four numbers in input pixels (in CSV, separated by
/// spaces or commas inside one quoted field). Relative paths (images and masks) are resolved
/// from the manifest's folder, not the working directory. Blank lines are skipped.
/// Pitfall: a label is kept as text; `--class label` reads it as an index when it is a whole
/// number and as a class name otherwise.
public enum ManifestFile {
    public static func read(_ url: URL) throws -> [DatasetItem] {
        let data = try FileRead.data(contentsOf: url, what: "the manifest")
        guard let text = String(data: data, encoding: .utf8) else {
            throw CNNVizError(.corruptFile, "the manifest is not UTF-8 text", location: url.path)
        }
        let folder = url.deletingLastPathComponent()
        func resolved(_ path: String) -> String {
            path.hasPrefix("/") ? path : folder.appendingPathComponent(path).path
        }
        let lines = text.split(whereSeparator: \.isNewline).map(String.init)
        var items = [DatasetItem]()
        if ["jsonl", "ndjson"].contains(url.pathExtension.lowercased()) {
            struct Row: Decodable { var path: String; var label: String?; var box: [Double]?; var mask: String? }
            for (number, line) in lines.enumerated() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
                let row: Row
                do { row = try JSONDecoder().decode(Row.self, from: Data(line.utf8)) } catch {
                    throw CNNVizError(.corruptFile, "line \(number + 1) is not an object with a \"path\" string (and optional \"label\", \"box\", \"mask\")",
                                      location: url.path, cause: error)
                }
                items.append(DatasetItem(path: resolved(row.path), key: "", label: row.label, box: try box(row.box, line: number + 1, in: url),
                                         mask: row.mask.map(resolved)))
            }
            return items
        }
        guard let header = lines.first.map(fields) else { return [] }
        let columns = header.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard let pathColumn = columns.firstIndex(of: "path") else {
            throw CNNVizError(.corruptFile, "the CSV header \(header) has no 'path' column (expected path, and optionally label, box, mask)", location: url.path)
        }
        func column(_ name: String, _ row: [String]) -> String? {
            columns.firstIndex(of: name).flatMap { $0 < row.count && !row[$0].isEmpty ? row[$0] : nil }
        }
        for (number, line) in lines.enumerated().dropFirst() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            let row = fields(line)
            guard pathColumn < row.count, !row[pathColumn].isEmpty else {
                throw CNNVizError(.corruptFile, "line \(number + 1) has no path", location: url.path)
            }
            let boxValues = try column("box", row).map { text -> [Double] in
                let numbers = text.split(whereSeparator: { $0 == " " || $0 == "," }).map { Double($0) }
                guard numbers.allSatisfy({ $0 != nil }) else {
                    throw CNNVizError(.corruptFile, "line \(number + 1): the box '\(text)' is not four numbers", location: url.path)
                }
                return numbers.map { $0! }
            }
            items.append(DatasetItem(path: resolved(row[pathColumn]), key: "", label: column("label", row),
                                     box: try box(boxValues, line: number + 1, in: url), mask: column("mask", row).map(resolved)))
        }
        return items
    }

    static func box(_ values: [Double]?, line: Int, in url: URL) throws -> [Double]? {
        guard let values else { return nil }
        guard values.count == 4, values.allSatisfy(\.isFinite), values[2] > values[0], values[3] > values[1] else {
            throw CNNVizError(.corruptFile, "line \(line): a box is x0, y0, x1, y1 with x1 > x0 and y1 > y0, found \(values)", location: url.path)
        }
        return values
    }

    /// One CSV line's fields: commas separate, double quotes enclose, "" is a quote.
    static func fields(_ line: String) -> [String] {
        var fields = [String](), current = "", quoted = false
        var characters = line.makeIterator()
        while let character = characters.next() {
            switch (character, quoted) {
            case ("\"", true):
                if let next = characters.next() {
                    if next == "\"" { current.append("\"") } else { quoted = false; if next == "," { fields.append(current); current = "" } else { current.append(next) } }
                } else { quoted = false }
            case ("\"", false) where current.isEmpty: quoted = true
            case (",", false): fields.append(current); current = ""
            default: current.append(character)
            }
        }
        fields.append(current)
        return fields
    }
}
