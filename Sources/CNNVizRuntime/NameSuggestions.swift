/// The names nearest to one a user mistyped, for the "nearest names" of an error message.
///
/// Rank, case-insensitively: names that contain the query come first (shortest first, so
/// `fire9` lists `fire9/squeeze1x1_1` before a name that merely resembles it), then the rest
/// by Levenshtein distance; ties keep the names' own order. Empty names and repeats are left out.
/// Pitfall: edit distance alone ranks `data_0` near `fire9` (both short); the containment
/// rule is what makes a prefix useful.
public enum NameSuggestions {
    public static func nearest(to query: String, in names: [String], count: Int = 5) -> [String] {
        let key = query.lowercased()
        var seen = Set<String>()
        let unique = names.filter { !$0.isEmpty && seen.insert($0).inserted }
        let ranked = unique.enumerated().map { offset, name -> (contains: Bool, score: Int, offset: Int, name: String) in
            let lowered = name.lowercased()
            let contains = !key.isEmpty && lowered.contains(key)
            return (contains, contains ? name.count : editDistance(lowered, key), offset, name)
        }
        return ranked.sorted { a, b in
            if a.contains != b.contains { return a.contains }
            return (a.score, a.offset) < (b.score, b.offset)
        }.prefix(count).map(\.name)
    }

    /// The Levenshtein distance: insertions, deletions and substitutions of characters.
    public static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + [Int](repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
