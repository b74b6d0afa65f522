import Foundation

/// A one-line progress bar on standard error, redrawn in place; silent when standard error is
/// not a terminal, so logs and pipes get only the final lines.
struct ProgressLine {
    let label: String
    let enabled = isatty(2) != 0

    /// Redraws the bar: `label [#####·····] done/total detail`.
    func update(_ done: Int, of total: Int, detail: String = "") {
        guard enabled, total > 0 else { return }
        let width = 30, filled = width * min(done, total) / total
        let bar = String(repeating: "#", count: filled) + String(repeating: "·", count: width - filled)
        FileHandle.standardError.write(Data("\r\(label) [\(bar)] \(done)/\(total) \(detail)\u{1B}[K".utf8))
    }

    /// Ends the bar's line.
    func finish() {
        if enabled { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}
