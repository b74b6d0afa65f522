import Synchronization

/// The process-wide settings that the engine runs fastest with. Creating a `Session` changes
/// nothing in the process; a program (the `cnn-viz` command does) opts in with one call.
///
/// `configureProcess()`:
/// - keeps activation buffers on glibc's heap (no mmap, no trimming; see `MemoryTuning`);
/// - sets OpenBLAS to one thread, so that cnn-viz splits every matrix product across its own
///   workers (OpenBLAS's threads spin after each call and would slow every other kernel);
/// - when oneDNN runs the convolutions (CNNVIZ_ENGINE=dnnl), loads it first, while no other
///   thread reads the environment (its OpenMP threads then sleep between calls rather than
///   spin: OMP_WAIT_POLICY=passive unless the user set it), and gives its OpenMP the worker
///   pool's thread count, so that the two never oversubscribe the cores;
/// - starts the worker pool.
///
/// Without it, results are the same: matrix products are left to OpenBLAS's own threading,
/// glibc keeps its defaults, and the worker pool starts at the first parallel kernel.
/// Pitfall: the heap settings make the process keep its peak heap until it exits.
public enum CNNVizEngine {
    static let configured = Atomic<Bool>(false)

    public static func configureProcess() {
        if DNNLConvolution.isChosen { DNNLConvolution.setThreads(Parallel.workers) }
        _ = MemoryTuning.applied
        _ = GEMM.configured
        _ = WorkerPool.shared
        configured.store(true, ordering: .releasing)
    }

    static let requestedThreads = Atomic<Int>(0)

    /// One thread count for every parallel kernel: cnn-viz's workers and oneDNN's OpenMP
    /// threads (OpenBLAS runs single-threaded under `configureProcess`). Takes effect only
    /// before the first parallel kernel runs (the pool is made once); returns whether it did.
    /// The default is `Parallel.workers`' (CNNVIZ_THREADS, else the cores the process may use).
    @discardableResult
    public static func setThreads(_ count: Int) -> Bool {
        precondition(count >= 1, "thread count must be at least 1")
        requestedThreads.store(count, ordering: .releasing)
        return Parallel.workers == count
    }

    /// Whether `configureProcess()` has run.
    public static var isConfigured: Bool { configured.load(ordering: .acquiring) }

    /// What runs the kernels on this machine, for benchmarks and bug reports.
    public struct Description: Encodable, Sendable {
        public var onednn: String
        /// The instruction set oneDNN dispatches to (after `DNNL_MAX_CPU_ISA`).
        public var isa: String
        public var threads: Int
        /// Which convolutions oneDNN runs (`DNNLConvolution.isChosen`).
        public var convolutions: String
    }

    public static var description: Description {
        Description(onednn: DNNLConvolution.version, isa: DNNLConvolution.isa, threads: Parallel.workers,
                    convolutions: DNNLConvolution.isChosen
                        ? "all on oneDNN" : "own kernels (Winograd, im2col + OpenBLAS, direct)")
    }
}
