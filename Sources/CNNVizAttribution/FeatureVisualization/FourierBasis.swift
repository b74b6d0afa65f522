import CNNVizRuntime
import Foundation

/// Lucid's and Lucent's Fourier image parameterisation for one H×W plane: a half spectrum
/// S[H, K] (K = ⌊W/2⌋ + 1 frequencies along x, real and imaginary parts), scaled per frequency,
/// then an orthonormal inverse real FFT, divided by 4 ("magic" in both libraries).
///
/// x = irfft2(scale ⊙ S, norm = "ortho") / 4, with scale(f) = 1 / max(f, 1/max(W, H))^decay and
/// f = √(f_x² + f_y²) in cycles per pixel (numpy's `fftfreq`).
///
/// The inverse transform runs as two complex FFTs per plane (`VectorFFT`), each along one axis
/// with the other axis as its vectors:
///   Y[m, k] = Σ_j scale ⊙ S[j, k] e^{2πi jm/H}                     (along y, K columns at once)
///   x[m, n] = Re Σ_k s·w_k Y[m, k] e^{2πi kn/W}                      (along x, H rows at once)
/// with s = 1/(4√(HW)), w_0 = 1, w_{W/2} = 1 for even W and w_k = 2 otherwise: the weighted half
/// spectrum padded with zeros to W frequencies gives the Hermitian sum's real part. Its adjoint
/// runs the same steps backwards, the forward FFTs (σ = −1) standing for the inverse ones.
/// Pitfall: like numpy's `irfftn`, this ignores the imaginary parts of the k = 0 (and even-W
/// Nyquist) column after the y transform; taking the real part does that. Lucent keeps one spare
/// frequency column for odd W, which `irfftn` then drops; here it is not allocated at all, so an
/// odd-W spectrum has K columns.
public struct FourierBasis: Sendable {
    public let height: Int
    public let width: Int
    /// Frequencies along x kept: ⌊W/2⌋ + 1.
    public let frequencies: Int
    /// scale(f) per (row, column) of the half spectrum, [H·K].
    public let scale: [Float]
    let alongY: VectorFFT
    let alongX: VectorFFT
    /// s·w_k per frequency column.
    let columnWeights: [Float]

    public init(height: Int, width: Int, decay: Double = 1) {
        self.height = height
        self.width = width
        let k = width / 2 + 1
        frequencies = k
        scale = Self.scale(height: height, width: width, decay: decay)
        alongY = VectorFFT(length: height)
        alongX = VectorFFT(length: width)
        let normalisation = 1 / (4 * (Double(height) * Double(width)).squareRoot())
        columnWeights = (0..<k).map { column in
            Float((column == 0 || (width % 2 == 0 && column == width / 2) ? 1.0 : 2.0) * normalisation)
        }
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

    /// Y's rows and Z's columns padded to multiples of 8 (`VectorFFT`'s lanes).
    var paddedFrequencies: Int { (frequencies + 7) / 8 * 8 }
    var paddedHeight: Int { (height + 7) / 8 * 8 }

    /// Per worker: the spectrum Y ([H][K′], real and imaginary), the x transform's Z ([W][H′],
    /// real and imaginary) and the FFTs' scratch (as large as the larger of the two).
    func withScratch(_ body: (_ buffers: (_ worker: Int) -> (y: Split, z: Split, scratch: Split)) -> Void) {
        let (yCount, zCount) = (height * paddedFrequencies, width * paddedHeight)
        let scratchCount = max(yCount, zCount), perWorker = 2 * (yCount + zCount + scratchCount)
        let memory = UnsafeMutablePointer<Float>.allocate(capacity: perWorker * Parallel.workers)
        memory.initialize(repeating: 0, count: perWorker * Parallel.workers)
        defer { memory.deallocate() }
        body { worker in
            let y = memory + worker * perWorker, z = y + 2 * yCount, scratch = z + 2 * zCount
            return ((y, y + yCount), (z, z + zCount), (scratch, scratch + scratchCount))
        }
    }

    typealias Split = (real: UnsafeMutablePointer<Float>, imaginary: UnsafeMutablePointer<Float>)

    /// `scale` and `columnWeights` as pointers.
    func withTables(_ body: (_ scale: UnsafePointer<Float>, _ columnWeights: UnsafePointer<Float>) -> Void) {
        scale.withUnsafeBufferPointer { scale in
            columnWeights.withUnsafeBufferPointer { weights in body(scale.baseAddress!, weights.baseAddress!) }
        }
    }

    /// The planes from their spectra (`planes` of H·K·2 values each, real and imaginary
    /// interleaved) into `planes` H×W planes, a plane per task. The padding lanes of Y and Z
    /// stay 0.
    public func images(_ parameters: UnsafePointer<Float>, planes: Int, into images: UnsafeMutablePointer<Float>) {
        let (h, k, w, kPadded, hPadded) = (height, frequencies, width, paddedFrequencies, paddedHeight)
        withScratch { buffers in
            withTables { scale, weights in
                Parallel.forEach(planes) { plane, worker in
                    let (y, z, scratch) = buffers(worker)
                    let source = parameters + plane &* h &* k &* 2
                    for row in 0..<h {
                        let (spectrum, factors) = (source + row &* k &* 2, scale + row &* k)
                        let (real, imaginary) = (y.real + row &* kPadded, y.imaginary + row &* kPadded)
                        for column in 0..<k {
                            real[column] = factors[column] * spectrum[2 &* column]
                            imaginary[column] = factors[column] * spectrum[2 &* column &+ 1]
                        }
                    }
                    alongY.transform(real: y.real, imaginary: y.imaginary, vectorLength: kPadded, inverse: true, scratch: scratch)
                    Self.transpose(y, rows: h, columns: k, stride: kPadded, into: z, stride: hPadded, weights: weights, weightPerRow: false)
                    (z.real + k * hPadded).update(repeating: 0, count: (w - k) * hPadded)
                    (z.imaginary + k * hPadded).update(repeating: 0, count: (w - k) * hPadded)
                    alongX.transform(real: z.real, imaginary: z.imaginary, vectorLength: hPadded, inverse: true, scratch: scratch)
                    Self.transpose(z.real, rows: w, columns: h, stride: hPadded, into: images + plane &* h &* w, stride: w)
                }
            }
        }
    }

    /// ∂L/∂parameters from ∂L/∂planes: the adjoint of `images`, its steps reversed and transposed.
    public func parameterGradient(_ imageGradient: UnsafePointer<Float>, planes: Int, into gradient: UnsafeMutablePointer<Float>) {
        let (h, k, w, kPadded, hPadded) = (height, frequencies, width, paddedFrequencies, paddedHeight)
        withScratch { buffers in
            withTables { scale, weights in
                Parallel.forEach(planes) { plane, worker in
                    let (y, z, scratch) = buffers(worker)
                    Self.transpose(imageGradient + plane &* h &* w, rows: h, columns: w, stride: w, into: z.real, stride: hPadded)
                    z.imaginary.update(repeating: 0, count: w * hPadded)
                    alongX.transform(real: z.real, imaginary: z.imaginary, vectorLength: hPadded, inverse: false, scratch: scratch)
                    Self.transpose(z, rows: k, columns: h, stride: hPadded, into: y, stride: kPadded, weights: weights, weightPerRow: true)
                    alongY.transform(real: y.real, imaginary: y.imaginary, vectorLength: kPadded, inverse: false, scratch: scratch)
                    let target = gradient + plane &* h &* k &* 2
                    for row in 0..<h {
                        let (spectrum, factors) = (target + row &* k &* 2, scale + row &* k)
                        let (real, imaginary) = (y.real + row &* kPadded, y.imaginary + row &* kPadded)
                        for column in 0..<k {
                            spectrum[2 &* column] = factors[column] * real[column]
                            spectrum[2 &* column &+ 1] = factors[column] * imaginary[column]
                        }
                    }
                }
            }
        }
    }

    /// b[c][r] = a[r][c] for r < rows, c < columns (rows `stride` apart in a, `targetStride`
    /// apart in b). Pitfall: wrapping index arithmetic (&*, &+), as in every loop here: a
    /// checked product per element keeps such loops scalar and several times slower.
    static func transpose(_ a: UnsafePointer<Float>, rows: Int, columns: Int, stride: Int,
                          into b: UnsafeMutablePointer<Float>, stride targetStride: Int) {
        for r in 0..<rows {
            let line = a + r &* stride
            for c in 0..<columns { b[c &* targetStride &+ r] = line[c] }
        }
    }

    /// The split-complex transpose, each value weighted: b[c][r] = weights[c or r] · a[r][c]
    /// (the weight indexed by a's column, or by its row with `weightPerRow`).
    static func transpose(_ a: Split, rows: Int, columns: Int, stride: Int, into b: Split, stride targetStride: Int,
                          weights: UnsafePointer<Float>, weightPerRow: Bool) {
        for r in 0..<rows {
            let (real, imaginary) = (a.real + r &* stride, a.imaginary + r &* stride)
            for c in 0..<columns {
                let weight = weights[weightPerRow ? r : c]
                b.real[c &* targetStride &+ r] = weight * real[c]
                b.imaginary[c &* targetStride &+ r] = weight * imaginary[c]
            }
        }
    }
}
