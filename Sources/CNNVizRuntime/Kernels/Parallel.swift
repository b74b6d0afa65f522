import CDNNLShim
import Foundation

/// Splits work across the machine's cores (see `WorkerPool`).
public enum Parallel {
    /// Worker count, fixed at first use: `CNNVizEngine.setThreads`, else the environment's
    /// `CNNVIZ_THREADS`, else the cores this process may run on (its CPU affinity, which
    /// `taskset` and container CPU sets narrow), at least 1.
    public static let workers: Int = {
        let requested = CNNVizEngine.requestedThreads.load(ordering: .acquiring)
        if requested > 0 { return requested }
        if let text = ProcessInfo.processInfo.environment["CNNVIZ_THREADS"], let count = Int(text), count > 0 { return count }
        return availableCores
    }()

    /// The CPUs in this process's affinity mask (sched_getaffinity), or the active processor count.
    public static var availableCores: Int {
        let count = Int(cnnviz_available_cores())
        return count > 0 ? count : max(1, ProcessInfo.processInfo.activeProcessorCount)
    }

    /// Runs `body` over `0..<count` in contiguous chunks of at least `minimumPerWorker`
    /// items, up to four chunks per worker so that a slowed core sheds work to the others;
    /// inline on the caller's thread when there is too little work to split.
    ///
    /// Pitfall: each chunk must write disjoint memory; nothing here synchronises writes.
    @inline(__always)
    public static func forChunks(_ count: Int, minimumPerWorker: Int = 4096, _ body: (Range<Int>) -> Void) {
        let chunks = min(4 * workers, count / max(minimumPerWorker, 1))
        if chunks <= 1 || workers == 1 {
            if count > 0 { body(0..<count) }
            return
        }
        WorkerPool.shared.run(chunks) { chunk, _ in
            body(count * chunk / chunks..<count * (chunk + 1) / chunks)
        }
    }

    /// Splits a range of flat indices b·L + i (blocks of `blockLength` L: an image's planes or
    /// pixels) into its runs within one block: `body(b, i range)`. For a `forChunks` chunk
    /// that crosses from one image into the next.
    @inline(__always)
    public static func blockRuns(_ range: Range<Int>, blockLength: Int, _ body: (Int, Range<Int>) -> Void) {
        var start = range.lowerBound
        while start < range.upperBound {
            let (block, offset) = start.quotientAndRemainder(dividingBy: blockLength)
            let end = min(range.upperBound, (block + 1) * blockLength)
            body(block, offset..<(offset + end - start))
            start = end
        }
    }

    /// Runs `body(i)` for every `i` in `0..<count`, spread over the workers.
    @inline(__always)
    public static func forEach(_ count: Int, _ body: (Int) -> Void) {
        WorkerPool.shared.run(count) { index, _ in body(index) }
    }

    /// Runs `body(i, worker)` for every `i` in `0..<count`; `worker` (in 0..<workers) names the
    /// thread, for per-thread scratch memory.
    @inline(__always)
    public static func forEach(_ count: Int, _ body: (_ index: Int, _ worker: Int) -> Void) {
        WorkerPool.shared.run(count, body)
    }
}
