import COpenBLAS

/// Single-precision matrix products through OpenBLAS, split across the cores by cnn-viz.
///
/// After `CNNVizEngine.configureProcess()`, OpenBLAS runs single-threaded and `multiply`
/// splits C into one block of columns (or rows) per worker itself; before it, each product is
/// one OpenBLAS call with OpenBLAS's own threading. Pitfall: OpenBLAS's own worker threads spin for a while after each
/// call, so with its threading on they compete with every other parallel kernel for the two
/// cores and slow pooling and elementwise ops several-fold.
public enum GEMM {
    static let configured: Void = {
        openblas_set_num_threads(1)
        _ = blas_thread_shutdown_()
    }()

    /// Below this many multiply-adds a product runs on the caller's thread.
    static let parallelThreshold = 1 << 18

    /// C[m×n] = alpha · op(A)[m×k] · op(B)[k×n] + beta · C, all row-major.
    ///
    /// `lda`, `ldb`, `ldc` are the row strides of A, B and C as stored (before transposition).
    /// Pitfall: with beta = 0, C may hold garbage on entry (BLAS does not read it).
    public static func multiply(
        m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int, transposeA: Bool = false,
        b: UnsafePointer<Float>, ldb: Int, transposeB: Bool = false,
        c: UnsafeMutablePointer<Float>, ldc: Int,
        alpha: Float = 1, beta: Float = 0
    ) {
        guard m > 0 && n > 0 else { return }
        if k == 0 {
            for row in 0..<m {
                for col in 0..<n { c[row * ldc + col] = beta == 0 ? 0 : beta * c[row * ldc + col] }
            }
            return
        }
        let parts = m * n * k < parallelThreshold || !CNNVizEngine.isConfigured ? 1 : Parallel.workers
        // Split the longer side; a thin column block (few pixels in late layers) wastes the kernel.
        if parts > 1 && n >= 64 * parts && n >= m {
            // Column blocks: C[:, j₀..<j₁] = op(A) · op(B)[:, j₀..<j₁].
            Parallel.forEach(parts) { part in
                let j0 = n * part / parts, j1 = n * (part + 1) / parts
                single(m: m, n: j1 - j0, k: k, a: a, lda: lda, transposeA: transposeA,
                       b: transposeB ? b + j0 * ldb : b + j0, ldb: ldb, transposeB: transposeB,
                       c: c + j0, ldc: ldc, alpha: alpha, beta: beta)
            }
        } else if parts > 1 && m >= 2 * parts {
            // Row blocks: C[i₀..<i₁, :] = op(A)[i₀..<i₁, :] · op(B).
            Parallel.forEach(parts) { part in
                let i0 = m * part / parts, i1 = m * (part + 1) / parts
                single(m: i1 - i0, n: n, k: k, a: transposeA ? a + i0 : a + i0 * lda, lda: lda, transposeA: transposeA,
                       b: b, ldb: ldb, transposeB: transposeB, c: c + i0 * ldc, ldc: ldc, alpha: alpha, beta: beta)
            }
        } else {
            single(m: m, n: n, k: k, a: a, lda: lda, transposeA: transposeA, b: b, ldb: ldb, transposeB: transposeB,
                   c: c, ldc: ldc, alpha: alpha, beta: beta)
        }
    }

    /// One OpenBLAS call on the current thread.
    @inline(__always)
    static func single(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, transposeA: Bool,
                       b: UnsafePointer<Float>, ldb: Int, transposeB: Bool, c: UnsafeMutablePointer<Float>, ldc: Int,
                       alpha: Float, beta: Float) {
        cblas_sgemm(CblasRowMajor,
                    transposeA ? CblasTrans : CblasNoTrans,
                    transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha,
                    a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}
