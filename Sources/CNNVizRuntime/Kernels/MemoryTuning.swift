import CMalloc

/// Keeps large tensor buffers on glibc's heap instead of fresh mmap'd pages.
///
/// By default glibc serves every allocation above 128 KiB with its own mmap and returns it on
/// free, so each forward pass page-faults (and zero-fills) every activation again — several
/// milliseconds per pass on a ResNet. Raising the mmap and trim thresholds lets freed
/// activation buffers be reused from one layer and one run to the next. Pitfall: the process
/// keeps its peak heap instead of returning it to the system between runs.
enum MemoryTuning {
    static let applied: Void = {
        // 32 MiB is the largest mmap threshold glibc accepts on 64-bit (a larger value is refused).
        _ = mallopt(M_MMAP_THRESHOLD, 32 << 20)
        _ = mallopt(M_TRIM_THRESHOLD, 256 << 20)
    }()
}
