import Foundation

/// Class names from a labels file: one name per line (ImageNet synset lines such as
/// `n01440764 tench, Tinca tinca` lose the synset id), or a JSON list of strings.
public enum ClassLabels {
    public static func load(contentsOf url: URL) throws -> [String] {
        InputProtection.protect([url])
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw CNNVizError(.fileNotReadable, "cannot read the labels file", location: url.path, cause: error)
        }
        if text.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix("[") {
            guard let list = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String] else {
                throw CNNVizError(.corruptFile, "the labels file looks like JSON but is not a list of strings", location: url.path)
            }
            return list
        }
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            let parts = trimmed.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].count == 9, parts[0].first == "n", parts[0].dropFirst().allSatisfy(\.isNumber) {
                return String(parts[1])
            }
            return trimmed
        }.reversed().drop { $0.isEmpty }.reversed()
    }
}
