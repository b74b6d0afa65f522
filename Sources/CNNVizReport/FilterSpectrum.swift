import CNNVizRuntime
import Foundation

/// How smooth convolution filters are: the share of each 2-D filter's energy in its lowest
/// spatial frequencies, a measure of structure (blobs, edges, gradients) against noise.
///
/// For one filter slice w[y, x] of size H×W, with its DFT F(u, v) = Σ w[y, x]·e^{−2πi(uy/H + vx/W)},
/// low(w) = Σ_{|u|,|v| ≤ 1} |F(u, v)|² / Σ_{u,v} |F(u, v)|², where |u| ≤ 1 means u ∈ {0, 1, H−1}
/// (the constant and the first harmonic each way). The layer's measure is the mean over every
/// (output, input) slice with nonzero energy.
///
/// White noise spreads its energy evenly, so for random filters low ≈ 9/(H·W) (0.36 at 5×5);
/// a colour blob or an oriented edge puts most of it in the first harmonics, low → 1.
/// Pitfall: at 3×3 every frequency is "low" and the measure is 1 for any filter, so it is
/// defined only for kernels of at least 4×4 (nil otherwise).
public enum FilterSpectrum {
    /// The mean low-frequency share of a [out, in, H, W] weight tensor, or nil when H or W < 4.
    public static func lowFrequencyShare(_ weights: Tensor) -> Double? {
        guard weights.rank == 4, weights.shape[2] >= 4, weights.shape[3] >= 4 else { return nil }
        let height = weights.shape[2], width = weights.shape[3], plane = height * width
        let values = weights.floats
        var total = 0.0, slices = 0
        for start in stride(from: 0, to: values.count, by: plane) {
            var low = 0.0, all = 0.0
            for u in 0..<height {
                for v in 0..<width {
                    var real = 0.0, imaginary = 0.0
                    for y in 0..<height {
                        for x in 0..<width {
                            let angle = -2 * Double.pi * (Double(u * y) / Double(height) + Double(v * x) / Double(width))
                            let w = Double(values[start + y * width + x])
                            real += w * cos(angle)
                            imaginary += w * sin(angle)
                        }
                    }
                    let energy = real * real + imaginary * imaginary
                    all += energy
                    if (u <= 1 || u == height - 1) && (v <= 1 || v == width - 1) { low += energy }
                }
            }
            if all > 0 {
                total += low / all
                slices += 1
            }
        }
        return slices > 0 ? total / Double(slices) : nil
    }
}
