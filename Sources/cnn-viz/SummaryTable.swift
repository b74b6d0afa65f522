import CNNVizRuntime
import Foundation

/// `cnn-viz summary`'s text: one row per layer, at most `width` columns (long layer names
/// keep their end behind a leading …), notes under the table, then the totals.
struct SummaryTable {
    var summary: ModelSummary.Summary
    var width = 100

    static let header = ["name", "op", "output", "params", "MACs", "RF", "jump", "start"]
    static let shortOps = ["BatchNormalization": "BatchNorm", "InstanceNormalization": "InstanceNorm",
                           "GlobalAveragePool": "GlobalAvgPool", "AveragePool": "AvgPool"]

    var text: String {
        let cells = summary.layers.map(SummaryTable.cells)
        let columns = SummaryTable.header.indices.dropFirst().map { column in
            max(SummaryTable.header[column].count, cells.map { $0[column].count }.max() ?? 0)
        }
        let longestName = max(4, summary.layers.map(\.name.count).max() ?? 4)
        let nameWidth = max(8, min(longestName, width - columns.reduce(0, +) - 2 * columns.count))
        func line(_ row: [String]) -> String {
            var text = SummaryTable.abbreviated(row[0], to: nameWidth).padding(toLength: nameWidth, withPad: " ", startingAt: 0)
            for (column, cell) in row.dropFirst().enumerated() {
                // Op and shape read left to right; numbers line up on the right.
                let pad = String(repeating: " ", count: max(0, columns[column] - cell.count))
                text += "  " + (column < 2 ? cell + pad : pad + cell)
            }
            return String(text.reversed().drop { $0 == " " }.reversed())
        }
        var lines = [line(SummaryTable.header)] + cells.map(line)
        let notes = summary.layers.filter { $0.note != nil }
        if !notes.isEmpty {
            lines.append("notes:")
            lines += notes.map { SummaryTable.abbreviated("  \($0.name): \($0.note!)", to: width, keepingEnd: false) }
        }
        let totals = summary.totals
        lines.append("total: \(totals.layers) layers, \(totals.parameters) parameters, \(totals.macs) MACs")
        lines.append("memory (Float32): parameters \(SummaryTable.bytes(totals.parameterBytes)), activations "
                     + "\(SummaryTable.bytes(totals.activationBytes)) summed, \(SummaryTable.bytes(totals.peakActivationBytes)) "
                     + "peak live")
        return lines.joined(separator: "\n")
    }

    static func cells(_ row: ModelSummary.Row) -> [String] {
        let op = shortOps[row.op] ?? row.op
        var field = ["-", "-", "-"]
        if let rf = row.receptiveField {
            let mark = rf.isApproximate ? "≈" : ""
            field = rf.isGlobal ? ["global", "-", "-"]
                : [mark + perAxis(rf.axes.map(\.size)), perAxis(rf.axes.map(\.jump)), perAxis(rf.axes.map(\.start))]
        }
        return [row.name, op, row.shape.map(String.init).joined(separator: "×"), count(row.parameters), count(row.macs)] + field
    }

    /// One value when every axis agrees, else H×W.
    static func perAxis(_ values: [Double]) -> String {
        Set(values).count == 1 ? ReceptiveField.format(values[0]) : values.map(ReceptiveField.format).joined(separator: "×")
    }

    /// Three significant digits and a K/M/G suffix: 9408 → 9.41K, 115605504 → 116M.
    static func count(_ value: Int) -> String {
        for (limit, suffix) in [(1e9, "G"), (1e6, "M"), (1e3, "K")] where Double(value) >= limit {
            let scaled = Double(value) / limit
            return String(format: scaled >= 999.5 ? "%.0f" : "%.3g", scaled) + suffix
        }
        return String(value)
    }

    static func bytes(_ value: Int) -> String {
        for (limit, unit) in [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")] where value >= limit {
            return String(format: "%.1f ", Double(value) / Double(limit)) + unit
        }
        return "\(value) B"
    }

    /// `text` cut to `length` characters with an ellipsis: at the front (keeping the end), or at the back.
    static func abbreviated(_ text: String, to length: Int, keepingEnd: Bool = true) -> String {
        guard text.count > length else { return text }
        return keepingEnd ? "…" + text.suffix(length - 1) : text.prefix(length - 1) + "…"
    }
}
