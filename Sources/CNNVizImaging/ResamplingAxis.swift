import COpenBLAS

/// One axis of the preprocessing geometry as a linear map: the resize (Pillow's bilinear
/// weights, unrounded) followed by the crop, and a right inverse of it.
///
/// Forward, R (model × original): row i holds the weights with which model pixel i averages
/// the original pixels, w_k / Σw for the taps of `ImageResampling.coefficients`; the identity
/// when the size does not change (Pillow skips that pass).
/// Inverse, U (original × model): bilinear interpolation U_b of the model's pixel centres,
/// p = (x + ½)·resized/original − ½ − cropOffset, zero where p falls outside the crop, then
/// corrected to U = U_b + Rᵀ(RRᵀ)⁻¹(I − R·U_b), so that R·U = I exactly: a map mapped back
/// to the photo and preprocessed again is the map the model saw. The correction is the
/// smallest change (in L2) of U_b that does this.
/// Pitfall: when the model's axis is longer than the original's (an upscale), RRᵀ is
/// singular and no right inverse exists; U is then U_b and the round trip is approximate.
struct ResamplingAxis {
    let originalSize: Int
    let modelSize: Int
    /// R, row-major model × original.
    let forward: [Double]
    /// U, row-major original × model.
    let inverse: [Double]
    /// The original pixels whose centres fall inside the crop.
    let seen: Range<Int>

    let resizedSize: Int
    let cropOffset: Int

    init(originalSize: Int, resizedSize: Int, cropOffset: Int, modelSize: Int) {
        self.originalSize = originalSize
        self.modelSize = modelSize
        self.resizedSize = resizedSize
        self.cropOffset = cropOffset
        let n = originalSize, m = modelSize
        var forward = [Double](repeating: 0, count: m * n)
        if resizedSize == originalSize {
            for i in 0..<m { forward[i * n + i + cropOffset] = 1 }
        } else {
            for (i, (first, weights)) in ImageResampling.unroundedCoefficients(inSize: n, outSize: resizedSize)
                .enumerated() where (cropOffset..<(cropOffset + m)).contains(i) {
                for (k, weight) in weights.enumerated() { forward[(i - cropOffset) * n + first + k] = weight }
            }
        }
        var interpolation = [Double](repeating: 0, count: n * m)
        var seenLow = n, seenHigh = 0
        let ratio = Double(resizedSize) / Double(n)
        for x in 0..<n {
            let p = (Double(x) + 0.5) * ratio - 0.5 - Double(cropOffset)
            guard p >= -0.5, p <= Double(m) - 0.5 else { continue }
            seenLow = min(seenLow, x)
            seenHigh = max(seenHigh, x + 1)
            let clamped = min(max(p, 0), Double(m - 1))
            let low = Int(clamped), high = min(low + 1, m - 1), t = clamped - Double(low)
            interpolation[x * m + low] += 1 - t
            interpolation[x * m + high] += t
        }
        self.forward = forward
        self.seen = seenLow < seenHigh ? seenLow..<seenHigh : 0..<0
        self.inverse = m <= n ? ResamplingAxis.corrected(interpolation, forward: forward, n: n, m: m) ?? interpolation : interpolation
    }

    /// U_b + Rᵀ(RRᵀ)⁻¹(I − R·U_b), or nil when RRᵀ is not positive definite.
    private static func corrected(_ interpolation: [Double], forward: [Double], n: Int, m: Int) -> [Double]? {
        var gram = [Double](repeating: 0, count: m * m)       // RRᵀ
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(m), Int32(n), 1, forward, Int32(n), forward, Int32(n), 0, &gram, Int32(m))
        var residual = [Double](repeating: 0, count: m * m)   // I − R·U_b
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(m), Int32(n), -1, forward, Int32(n), interpolation, Int32(m), 0, &residual, Int32(m))
        for i in 0..<m { residual[i * m + i] += 1 }
        guard CholeskySolve.solve(gram, size: m, rightHandSides: &residual, columns: m) else { return nil }
        var inverse = interpolation                          // U_b + Rᵀ·solution
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(n), Int32(m), Int32(m), 1, forward, Int32(n), residual, Int32(m), 1, &inverse, Int32(m))
        return inverse
    }

    /// The original pixels covering the model's pixels low…high (inclusive, clipped to the
    /// model): pixel edges map as original = (model + cropOffset) · original / resized.
    func originalPixels(coveringModel low: Double, _ high: Double) -> Range<Int> {
        let ratio = Double(originalSize) / Double(resizedSize)
        let first = max(0, min(low, Double(modelSize - 1))), last = min(Double(modelSize - 1), max(high, 0))
        let start = Int(((first + Double(cropOffset)) * ratio).rounded(.down)), end = Int(((last + 1 + Double(cropOffset)) * ratio).rounded(.up))
        return max(0, start)..<min(originalSize, max(end, start + 1))
    }
}

/// Solves A·X = B for a symmetric positive definite A (row-major size × size) by Cholesky,
/// in place on B (row-major size × columns). False when A is not positive definite.
enum CholeskySolve {
    static func solve(_ a: [Double], size: Int, rightHandSides b: inout [Double], columns: Int) -> Bool {
        var l = [Double](repeating: 0, count: size * size)
        for i in 0..<size {
            for j in 0...i {
                var sum = a[i * size + j]
                for k in 0..<j { sum -= l[i * size + k] * l[j * size + k] }
                if i == j {
                    guard sum > 1e-12 else { return false }
                    l[i * size + i] = sum.squareRoot()
                } else {
                    l[i * size + j] = sum / l[j * size + j]
                }
            }
        }
        for column in 0..<columns {
            for i in 0..<size {          // L·y = b
                var sum = b[i * columns + column]
                for k in 0..<i { sum -= l[i * size + k] * b[k * columns + column] }
                b[i * columns + column] = sum / l[i * size + i]
            }
            for i in stride(from: size - 1, through: 0, by: -1) {   // Lᵀ·x = y
                var sum = b[i * columns + column]
                for k in (i + 1)..<size { sum -= l[k * size + i] * b[k * columns + column] }
                b[i * columns + column] = sum / l[i * size + i]
            }
        }
        return true
    }
}
