import CMalloc

/// Keeps tensor buffers on glibc's heap instead of fresh mmap'd pages.
///
/// By default glibc serves every allocation above 128 KiB with its own mmap and returns it on
/// free, so each forward pass page-faults (and zero-fills) every activation again — several
/// milliseconds per pass on a ResNet. Turning mmap off for allocations and trimming off
/// (`M_TRIM_THRESHOLD` −1) lets freed activation buffers be reused from one layer and one run
/// to the next. (Raising the mmap threshold alone stops at 32 MiB, below a batch's
/// activations: ResNet-18's first layer is 103 MB at batch 32, and its backward pass ran 14%
/// faster without mmap. A trim threshold of 256 MiB still returned the heap's top whenever a
/// batch's backward freed that much at once: on ResNet-50 at batch 32, 12% of the time went to
/// zeroing pages afresh, and the backward ran 20% faster with trimming off.)
/// Pitfall: the process keeps its peak heap instead of returning it to the system between runs.
/// Applied only by `CNNVizEngine.configureProcess()`.
enum MemoryTuning {
    static let applied: Void = {
        _ = mallopt(M_MMAP_MAX, 0)
        _ = mallopt(M_TRIM_THRESHOLD, -1)
    }()
}
