import COpenBLAS

/// The projection of the rows of a matrix onto its first principal direction, through LAPACK.
public enum PrincipalComponent {
    /// For M (rows × columns, row-major), centred by subtracting each column's mean:
    /// p = M·v₁, v₁ the first right-singular vector, computed as √λ₁·u₁ with u₁ the top
    /// eigenvector of M·Mᵀ when rows ≤ columns, else as M·v₁ with v₁ that of Mᵀ·M (the
    /// smaller Gram matrix; LAPACK dsyevr in Double).
    ///
    /// Pitfall: the sign of a singular vector is arbitrary (NumPy's SVD returns whichever
    /// LAPACK gives); callers that need a convention must fix it themselves.
    public static func projection(_ values: [Float], rows: Int, columns: Int) throws -> [Double] {
        precondition(values.count == rows * columns)
        guard rows > 0, columns > 0 else { return [Double](repeating: 0, count: rows) }
        var m = values.map { $0.isNaN ? 0 : Double($0) }
        for c in 0..<columns {
            var mean = 0.0
            for r in 0..<rows { mean += m[r * columns + c] }
            mean /= Double(rows)
            for r in 0..<rows { m[r * columns + c] -= mean }
        }
        let useRows = rows <= columns
        let n = useRows ? rows : columns
        var gram = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in i..<n {
                var sum = 0.0
                if useRows {
                    for k in 0..<columns { sum += m[i * columns + k] * m[j * columns + k] }
                } else {
                    for k in 0..<rows { sum += m[k * columns + i] * m[k * columns + j] }
                }
                gram[i * n + j] = sum
                gram[j * n + i] = sum
            }
        }
        let (value, vector) = try largestEigenpair(gram, n: n)
        if useRows { return vector.map { $0 * value.squareRoot() } }
        return (0..<rows).map { r in (0..<columns).reduce(0) { $0 + m[r * columns + $1] * vector[$1] } }
    }

    /// The largest eigenvalue of a symmetric n×n matrix and its unit eigenvector.
    static func largestEigenpair(_ matrix: [Double], n: Int) throws -> (Double, [Double]) {
        var a = matrix
        var (n32, lda, il, iu, found, ldz, info) = (Int32(n), Int32(n), Int32(n), Int32(n), Int32(0), Int32(n), Int32(0))
        var (vl, vu, abstol) = (0.0, 0.0, 0.0)
        var w = [Double](repeating: 0, count: n), z = [Double](repeating: 0, count: n)
        var support = [Int32](repeating: 0, count: 2 * n)
        var workSize = 0.0, iworkSize = Int32(0), query = Int32(-1)
        dsyevr_("V", "I", "U", &n32, &a, &lda, &vl, &vu, &il, &iu, &abstol, &found, &w, &z, &ldz, &support,
                &workSize, &query, &iworkSize, &query, &info, 1, 1, 1)
        var lwork = Int32(workSize), liwork = iworkSize
        var work = [Double](repeating: 0, count: Int(lwork)), iwork = [Int32](repeating: 0, count: Int(liwork))
        dsyevr_("V", "I", "U", &n32, &a, &lda, &vl, &vu, &il, &iu, &abstol, &found, &w, &z, &ldz, &support,
                &work, &lwork, &iwork, &liwork, &info, 1, 1, 1)
        guard info == 0, found == 1 else {
            throw CNNVizError(.invalidArgument, "the eigen-decomposition of a \(n)×\(n) matrix failed (LAPACK info \(info))")
        }
        return (max(w[0], 0), z)
    }
}
