import Synchronization

/// The process-wide settings that the engine runs fastest with. Creating a `Session` changes
/// nothing in the process; a program (the `cnn-viz` command does) opts in with one call.
///
/// `configureProcess()`:
/// - keeps activation buffers on glibc's heap (no mmap, no trimming; see `MemoryTuning`);
/// - sets OpenBLAS to one thread, so that cnn-viz splits every matrix product across its own
///   workers (OpenBLAS's threads spin after each call and would slow every other kernel);
/// - starts the worker pool's threads.
///
/// Without it, results are the same: matrix products are left to OpenBLAS's own threading,
/// glibc keeps its defaults, and the worker pool starts at the first parallel kernel.
/// Pitfall: the heap settings make the process keep its peak heap until it exits.
public enum CNNVizEngine {
    static let configured = Atomic<Bool>(false)

    public static func configureProcess() {
        _ = MemoryTuning.applied
        _ = GEMM.configured
        _ = WorkerPool.shared
        configured.store(true, ordering: .releasing)
    }

    /// Whether `configureProcess()` has run.
    public static var isConfigured: Bool { configured.load(ordering: .acquiring) }
}
