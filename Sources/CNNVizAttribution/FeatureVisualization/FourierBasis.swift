import CNNVizRuntime
import Foundation

/// Lucid's and Lucent's Fourier image parameterisation for one H×W plane: a half spectrum
/// S[H, K] (K = ⌊W/2⌋ + 1 frequencies along x, real and imaginary parts), scaled per frequency,
/// then an orthonormal inverse real FFT, divided by 4 ("magic" in both libraries).
///
/// x = irfft2(scale ⊙ S, norm = "ortho") / 4, with scale(f) = 1 / max(f, 1/max(W, H))^decay and
/// f = √(f_x² + f_y²) in cycles per pixel (numpy's `fftfreq`).
///
/// The inverse transform is written as two real matrix products (cosines and sines), which
/// BLAS runs, and so is its adjoint:
///   Y = Σ_j S[j, k] e^{2πi jm/H}          (complex, along y)
///   x[m, n] = s Σ_k w_k (Re Y[m, k] cos(2πkn/W) − Im Y[m, k] sin(2πkn/W))
/// with s = 1/(4√(HW)), w_0 = 1, w_{W/2} = 1 for even W and w_k = 2 otherwise. Pitfall: like
/// numpy's `irfftn`, this ignores the imaginary parts of the k = 0 (and even-W Nyquist)
/// column, whose sine vanishes. Lucent keeps one spare frequency column for odd W, which
/// `irfftn` then drops; here it is not allocated at all, so an odd-W spectrum has K columns.
public struct FourierBasis: Sendable {
    public let height: Int
    public let width: Int
    /// Frequencies along x kept: ⌊W/2⌋ + 1.
    public let frequencies: Int
    /// scale(f) per (row, column) of the half spectrum, [H·K].
    public let scale: [Float]
    /// [[C_h, −S_h], [S_h, C_h]], 2H×2H: the complex inverse DFT along y on (Re, Im) stacked.
    let alongY: [Float]
    /// [w_k cos; w_k sin](2πkn/W) · s, 2K×W: the real inverse along x of (Re | −Im).
    let alongX: [Float]

    public init(height: Int, width: Int, decay: Double = 1) {
        self.height = height
        self.width = width
        let k = width / 2 + 1
        frequencies = k
        scale = Self.scale(height: height, width: width, decay: decay)
        var alongY = [Float](repeating: 0, count: 4 * height * height)
        for m in 0..<height {
            for j in 0..<height {
                let angle = 2 * Double.pi * Double((j * m) % height) / Double(height)
                let (c, s) = (Float(cos(angle)), Float(sin(angle)))
                alongY[m * 2 * height + j] = c
                alongY[m * 2 * height + height + j] = -s
                alongY[(height + m) * 2 * height + j] = s
                alongY[(height + m) * 2 * height + height + j] = c
            }
        }
        self.alongY = alongY
        let normalisation = 1 / (4 * (Double(height) * Double(width)).squareRoot())
        var alongX = [Float](repeating: 0, count: 2 * k * width)
        for column in 0..<k {
            let weight = column == 0 || (width % 2 == 0 && column == width / 2) ? 1.0 : 2.0
            for n in 0..<width {
                let angle = 2 * Double.pi * Double((column * n) % width) / Double(width)
                alongX[column * width + n] = Float(weight * normalisation * cos(angle))
                alongX[(k + column) * width + n] = Float(weight * normalisation * sin(angle))
            }
        }
        self.alongX = alongX
    }

    /// numpy's fftfreq(n)[i]: i/n for i < ⌈n/2⌉, else (i − n)/n.
    static func frequency(_ index: Int, _ count: Int) -> Double {
        Double(index < (count + 1) / 2 ? index : index - count) / Double(count)
    }

    /// 1 / max(f, 1/max(W, H))^decay per half-spectrum entry.
    static func scale(height: Int, width: Int, decay: Double) -> [Float] {
        let k = width / 2 + 1, floor = 1 / Double(max(width, height))
        var values = [Float](repeating: 0, count: height * k)
        for row in 0..<height {
            let fy = frequency(row, height)
            for column in 0..<k {
                let fx = frequency(column, width)
                values[row * k + column] = Float(1 / pow(max((fx * fx + fy * fy).squareRoot(), floor), decay))
            }
        }
        return values
    }

    /// Spectrum values per plane: H·K·2 (Lucent's trailing real/imaginary axis).
    public var parametersPerPlane: Int { height * frequencies * 2 }

    /// The planes from their spectra (`planes` of H·K·2 values each, real and imaginary
    /// interleaved) into `planes` H×W planes. All planes go through each product at once:
    /// along y as one [2H × 2H]·[2H × planes·K] product, along x as one
    /// [planes·H × 2K]·[2K × W] product, which BLAS runs far better than small ones.
    public func images(_ parameters: UnsafePointer<Float>, planes: Int, into images: UnsafeMutablePointer<Float>) {
        let (h, k, w) = (height, frequencies, width), columns = planes * k
        var stacked = [Float](repeating: 0, count: 2 * h * columns)  // [Re S; Im S] scaled, row r: every plane's K values
        stacked.withUnsafeMutableBufferPointer { stacked in
            let stacked = stacked.baseAddress!
            Parallel.forEach(planes) { plane in
                let source = parameters + plane * h * k * 2
                for row in 0..<h {
                    for column in 0..<k {
                        let index = row * k + column, target = row * columns + plane * k + column
                        stacked[target] = scale[index] * source[2 * index]
                        stacked[h * columns + target] = scale[index] * source[2 * index + 1]
                    }
                }
            }
        }
        var y = [Float](repeating: 0, count: 2 * h * columns)  // [Re Y; Im Y]
        GEMM.multiply(m: 2 * h, n: columns, k: 2 * h, a: alongY, lda: 2 * h, b: stacked, ldb: columns, c: &y, ldc: columns)
        var sideBySide = [Float](repeating: 0, count: planes * h * 2 * k)  // per plane and row: [Re Y | −Im Y]
        sideBySide.withUnsafeMutableBufferPointer { sideBySide in
            let target = sideBySide.baseAddress!
            Parallel.forEach(planes) { plane in
                for row in 0..<h {
                    for column in 0..<k {
                        let from = row * columns + plane * k + column, to = (plane * h + row) * 2 * k + column
                        target[to] = y[from]
                        target[to + k] = -y[h * columns + from]
                    }
                }
            }
        }
        GEMM.multiply(m: planes * h, n: w, k: 2 * k, a: sideBySide, lda: 2 * k, b: alongX, ldb: w, c: images, ldc: w)
    }

    /// ∂L/∂parameters from ∂L/∂planes: the adjoint of `images`, the same products transposed.
    public func parameterGradient(_ imageGradient: UnsafePointer<Float>, planes: Int, into gradient: UnsafeMutablePointer<Float>) {
        let (h, k, w) = (height, frequencies, width), columns = planes * k
        var sideBySide = [Float](repeating: 0, count: planes * h * 2 * k)
        GEMM.multiply(m: planes * h, n: 2 * k, k: w, a: imageGradient, lda: w, b: alongX, ldb: w, transposeB: true, c: &sideBySide, ldc: 2 * k)
        var y = [Float](repeating: 0, count: 2 * h * columns)
        y.withUnsafeMutableBufferPointer { y in
            let target = y.baseAddress!
            Parallel.forEach(planes) { plane in
                for row in 0..<h {
                    for column in 0..<k {
                        let to = row * columns + plane * k + column, from = (plane * h + row) * 2 * k + column
                        target[to] = sideBySide[from]
                        target[h * columns + to] = -sideBySide[from + k]
                    }
                }
            }
        }
        var stacked = [Float](repeating: 0, count: 2 * h * columns)
        GEMM.multiply(m: 2 * h, n: columns, k: 2 * h, a: alongY, lda: 2 * h, transposeA: true, b: y, ldb: columns, c: &stacked, ldc: columns)
        Parallel.forEach(planes) { plane in
            let target = gradient + plane * h * k * 2
            for row in 0..<h {
                for column in 0..<k {
                    let index = row * k + column, from = row * columns + plane * k + column
                    target[2 * index] = scale[index] * stacked[from]
                    target[2 * index + 1] = scale[index] * stacked[h * columns + from]
                }
            }
        }
    }
}
