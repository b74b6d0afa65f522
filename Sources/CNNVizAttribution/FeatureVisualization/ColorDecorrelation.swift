import CNNVizRuntime

/// Lucid's and Lucent's colour decorrelation: the square root of ImageNet's colour
/// correlation, its columns scaled so that the largest has unit norm, applied per pixel to
/// the three channels before a sigmoid: rgb = σ(M · t).
///
/// Pitfall: Lucent multiplies a [..., 3] pixel row by Mᵀ, which is M · t for a column t; the
/// matrix is not symmetric, so the order matters. `color_mean` is not used with the sigmoid
/// (Lucent's `to_valid_rgb`), and neither is it here.
public enum ColorDecorrelation {
    /// Lucid's `color_correlation_svd_sqrt`, row-major.
    static let squareRootCorrelation: [Double] = [0.26, 0.09, 0.02,
                                                  0.27, 0.00, -0.05,
                                                  0.27, -0.09, 0.03]

    /// `squareRootCorrelation` divided by the largest of its columns' L2 norms, in Float as
    /// Lucent keeps it.
    public static let matrix: [Float] = {
        let m = squareRootCorrelation.map { Float($0) }
        let norms = (0..<3).map { column in (0..<3).reduce(Float(0)) { $0 + m[$1 * 3 + column] * m[$1 * 3 + column] }.squareRoot() }
        let largest = norms.max()!
        return m.map { $0 / largest }
    }()

    /// out[i] = Σ_j M[i][j] · in[j] at every pixel of each [3, P] image of `values`.
    static func apply(_ values: [Float], pixels: Int, transposed: Bool = false) -> [Float] {
        let m = matrix
        let rows: [(Float, Float, Float)] = (0..<3).map { (i: Int) -> (Float, Float, Float) in
            transposed ? (m[i], m[3 + i], m[6 + i]) : (m[3 * i], m[3 * i + 1], m[3 * i + 2])
        }
        return [Float](unsafeUninitializedCapacity: values.count) { output, initialized in
            values.withUnsafeBufferPointer { input in
                let (input, output) = (input.baseAddress!, output.baseAddress!)
                Parallel.forEach(values.count / (3 * pixels)) { image in
                    let (x, y) = (input + image * 3 * pixels, output + image * 3 * pixels)
                    for i in 0..<3 {
                        let (a, b, c) = rows[i]
                        let target = y + i * pixels
                        for p in 0..<pixels {
                            let sum: Float = a * x[p] + b * x[pixels + p]
                            target[p] = sum + c * x[2 * pixels + p]
                        }
                    }
                }
            }
            initialized = values.count
        }
    }
}
