import CNNVizRuntime
import Foundation

/// Batch sizes from a memory budget, for the methods that run many copies of an image
/// (integrated gradients' steps, noise-tunnel samples, occlusion windows, ScoreCAM's and
/// AblationCAM's masked passes).
///
/// A batch of B images holds B times one image's activations: all of them for a gradient pass
/// (the reverse pass reads what the forward kept), the peak of those alive at once for a
/// forward pass. The batch is the largest B ≤ the requested batch size whose activations fit
/// the budget, and at least 1. One image's activations are measured by running the graph once
/// at batch 1 for shapes (`ModelSummary`), so they count exactly what this model keeps.
///
/// The default budget is 256 MiB, or a quarter of the machine's memory when that is less.
/// Measured on 2 cores (integrated gradients, 32 steps): SqueezeNet (28.5 MB per image) took
/// 0.76 s and 292 MB at batch 8 against 1.07 s and 895 MB at batch 32; ResNet-50 (106 MB per
/// image) 4.09 s and 337 MB at batch 2, 3.94 s and 746 MB at batch 8, 4.34 s and 1955 MB at
/// batch 32. Past a few images per pass each conv already splits across the cores, and larger
/// batches only leave the caches. Pitfall: the budget bounds activations, not the process: the
/// model's weights, the per-step inputs and the gradients kept for the sum come on top.
public enum MemoryBudget {
    public static var defaultBytes: Int { min(256 << 20, Int(ProcessInfo.processInfo.physicalMemory / 4)) }

    /// Bytes of activations one image needs: summed over every tensor (a gradient pass), or
    /// the peak alive at once (a forward pass).
    public static func activationBytesPerImage(_ session: Session, input: Tensor, forGradients: Bool) throws -> Int {
        let name = session.graph.inputs[0].name
        let totals = try ModelSummary.summary(for: session, inputShapes: [name: [1] + input.shape.dropFirst()]).totals
        return forGradients ? totals.activationBytes : totals.peakActivationBytes
    }

    /// The batch for copies of `input`'s images: `batchSize(requested:bytes:perImage:)` with one
    /// image's activations measured for `session` (all of them for gradient passes).
    static func batchSize(requested: Int, bytes: Int?, session: Session, input: Tensor, forGradients: Bool) throws -> Int {
        try batchSize(requested: requested, bytes: bytes) {
            try activationBytesPerImage(session, input: input, forGradients: forGradients)
        }
    }

    /// The largest batch ≤ `requested` whose activations fit `bytes` (nil: no budget), at least 1.
    public static func batchSize(requested: Int, bytes: Int?, perImage: () throws -> Int) rethrows -> Int {
        guard let bytes, requested > 1 else { return max(1, requested) }
        return max(1, min(requested, bytes / max(1, try perImage())))
    }
}
