import CNNVizRuntime

/// Lucid's and Lucent's colour decorrelation and `to_valid_rgb`: the square root of ImageNet's
/// colour correlation, its columns scaled so that the largest has unit norm, applied per pixel
/// to the three channels, then a sigmoid to [0, 1]: rgb = σ(M · t) (σ(t) without decorrelation).
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

    static let identity: [Float] = [1, 0, 0, 0, 1, 0, 0, 0, 1]

    /// rgb = σ(M · t) at every pixel of each [3, P] image of `linear` (M the identity when not
    /// decorrelating), in one pass with a vectorised exponential (`fastExponential`).
    static func validRGB(_ linear: [Float], pixels: Int, decorrelates: Bool) -> [Float] {
        let m = decorrelates ? matrix : identity
        return mapPixels(linear, linear, pixels: pixels) { t, _, y, range in
            let (t0, t1, t2) = (t, t + pixels, t + 2 * pixels)
            for i in 0..<3 {
                let (a, b, c) = (m[3 * i], m[3 * i + 1], m[3 * i + 2])
                let target = y + i * pixels
                for p in range {
                    let sum: Float = a * t0[p] + b * t1[p]
                    target[p] = 1 / (1 + fastExponential(-(sum + c * t2[p])))
                }
            }
        }
    }

    /// ∂L/∂t = Mᵀ · (g ⊙ y(1 − y)) given the images y = `validRGB(t)` and g = ∂L/∂y, in one pass.
    static func validRGBGradient(images: [Float], imageGradient: [Float], pixels: Int, decorrelates: Bool) -> [Float] {
        let m = decorrelates ? matrix : identity
        return mapPixels(images, imageGradient, pixels: pixels) { y, g, out, range in
            let (y0, y1, y2, g0, g1, g2) = (y, y + pixels, y + 2 * pixels, g, g + pixels, g + 2 * pixels)
            for i in 0..<3 {
                let (a, b, c) = (m[i], m[3 + i], m[6 + i])
                let target = out + i * pixels
                for p in range {
                    let sum: Float = a * (g0[p] * y0[p] * (1 - y0[p])) + b * (g1[p] * y1[p] * (1 - y1[p]))
                    target[p] = sum + c * (g2[p] * y2[p] * (1 - y2[p]))
                }
            }
        }
    }

    /// A new array the size of `first` whose [3, P] images are written by `body(first image,
    /// second image, output image, pixel range)`, runs of pixels in parallel.
    /// Pitfall: index the planes through their own pointers (t + P), not as t[P + p]: the
    /// overflow check on P + p keeps the loop from vectorising (about 10× slower here).
    private static func mapPixels(_ first: [Float], _ second: [Float], pixels: Int,
                                  _ body: (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Range<Int>) -> Void) -> [Float] {
        let images = first.count / (3 * pixels)
        return [Float](unsafeUninitializedCapacity: first.count) { output, initialized in
            first.withUnsafeBufferPointer { first in
                second.withUnsafeBufferPointer { second in
                    let (a, b, out) = (first.baseAddress!, second.baseAddress!, output.baseAddress!)
                    Parallel.forChunks(images * pixels, minimumPerWorker: 8192) { range in
                        Parallel.blockRuns(range, blockLength: pixels) { image, run in
                            let offset = image * 3 * pixels
                            body(a + offset, b + offset, out + offset, run)
                        }
                    }
                }
            }
            initialized = first.count
        }
    }
}
