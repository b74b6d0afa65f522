import Dispatch
import Foundation

/// Splits work across the machine's cores.
public enum Parallel {
    /// Worker count: the active processor count, at least 1.
    public static let workers = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// Runs `body` over `0..<count` in contiguous chunks, one per worker, when `count`
    /// is at least `minimumPerWorker` per worker; otherwise inline on the caller's thread.
    ///
    /// Pitfall: each chunk must write disjoint memory; nothing here synchronises writes.
    @inline(__always)
    public static func forChunks(_ count: Int, minimumPerWorker: Int = 4096, _ body: (Range<Int>) -> Void) {
        let chunks = min(workers, count / max(minimumPerWorker, 1))
        if chunks <= 1 {
            if count > 0 { body(0..<count) }
            return
        }
        WorkerPool.shared.run(chunks) { chunk in
            let start = count * chunk / chunks
            let end = count * (chunk + 1) / chunks
            body(start..<end)
        }
    }

    /// Runs `body(i)` for every `i` in `0..<count`, spread over the workers.
    @inline(__always)
    public static func forEach(_ count: Int, _ body: (Int) -> Void) {
        if count <= 1 || workers == 1 {
            for i in 0..<count { body(i) }
            return
        }
        WorkerPool.shared.run(count, body)
    }
}
