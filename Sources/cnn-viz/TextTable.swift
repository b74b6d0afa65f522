/// A plain-text table: columns as wide as their widest cell, two spaces apart, the first
/// column left-aligned and the rest (numbers) right-aligned; trailing spaces trimmed.
/// Pitfall: Foundation's `String(format: "%-22@")` does not pad on Linux, which is how
/// `run --profile` lost its columns.
enum TextTable {
    static func lines(header: [String], rows: [[String]], indent: String = "") -> [String] {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0.indices.contains(column) ? $0[column].count : 0 }.max() ?? 0 }
        return all.map { row in
            let cells = row.enumerated().map { column, cell -> String in
                let pad = String(repeating: " ", count: max(0, widths[column] - cell.count))
                return column == 0 ? cell + pad : pad + cell
            }
            return String((indent + cells.joined(separator: "  ")).reversed().drop { $0 == " " }.reversed())
        }
    }
}
