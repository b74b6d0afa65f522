import Foundation

/// A dataset run's progress: on a terminal, a bar with the rate and the time left, redrawn
/// in place; in a log (standard error not a terminal), one line every `logEvery` images.
/// The rate counts every input, skipped ones too, so a resumed run's first lines run fast.
final class DatasetProgress {
    let label: String
    let total: Int
    let enabled: Bool
    let bar: ProgressLine
    /// A log line every 10% of the run, at most every 100 images.
    let logEvery: Int
    private var done = 0
    private let start = DispatchTime.now().uptimeNanoseconds

    init(label: String, total: Int, enabled: Bool) {
        self.label = label
        self.total = total
        self.enabled = enabled
        bar = ProgressLine(label: label)
        logEvery = max(1, min(100, total / 10))
    }

    func advance() {
        done += 1
        guard enabled else { return }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let rate = seconds > 0 ? Double(done) / seconds : 0
        let left = rate > 0 ? Double(total - done) / rate : 0
        let detail = String(format: "%.1f images/s, %@ left", rate, Self.duration(left))
        if bar.enabled {
            bar.update(done, of: total, detail: detail)
        } else if done % logEvery == 0 || done == total {
            FileHandle.standardError.write(Data("\(label): \(done)/\(total) images, \(detail)\n".utf8))
        }
    }

    /// Writes a message on its own line, the bar redrawn at the next image.
    func interrupt(_ message: String) {
        bar.finish()
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }

    func finish() { bar.finish() }

    /// "42 s", "3 min 5 s", "2 h 10 min".
    static func duration(_ seconds: Double) -> String {
        let whole = Int(seconds.rounded())
        if whole < 60 { return "\(whole) s" }
        if whole < 3600 { return "\(whole / 60) min \(whole % 60) s" }
        return "\(whole / 3600) h \((whole % 3600) / 60) min"
    }
}
