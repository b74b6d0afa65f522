import Foundation

/// Class names from a labels file: one name per line (ImageNet synset lines such as
/// `n01440764 tench, Tinca tinca` lose the synset id), or a JSON list of strings.
public enum ClassLabels {
    public static func load(contentsOf url: URL) throws -> [String] {
        InputProtection.protect([url])
        let text = try contents(of: url)
        if text.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix("[") {
            guard let list = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String] else {
                throw CNNVizError(.corruptFile, "the labels file looks like JSON but is not a list of strings", location: url.path)
            }
            return list
        }
        return lines(text).map(\.name)
    }

    /// The synset id of each line of a labels file (`n02123045` for `n02123045 tabby, tabby
    /// cat`), nil for lines without one and for JSON lists.
    public static func synsets(contentsOf url: URL) throws -> [String?] {
        let text = try contents(of: url)
        if text.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix("[") { return [] }
        return lines(text).map(\.synset)
    }

    static func contents(of url: URL) throws -> String {
        guard let text = String(data: try FileRead.data(contentsOf: url, what: "the labels file"), encoding: .utf8) else {
            throw CNNVizError(.corruptFile, "the labels file is not UTF-8 text", location: url.path)
        }
        return text
    }

    /// Each line: its synset id when it starts with one, and the name that follows.
    static func lines(_ text: String) -> [(synset: String?, name: String)] {
        let entries = text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> (synset: String?, name: String) in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            let parts = trimmed.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].count == 9, parts[0].first == "n", parts[0].dropFirst().allSatisfy(\.isNumber) {
                return (String(parts[0]), String(parts[1]))
            }
            return (nil, trimmed)
        }
        return Array(entries.reversed().drop { $0.name.isEmpty }.reversed())
    }
}
