internal import CBLAS

/// Matrix products through OpenBLAS, the one place the engine spends most of its FLOPs.
public enum BLAS {
    /// Sets OpenBLAS's thread count; results are bitwise reproducible for a fixed count.
    public static func setThreads(_ n: Int) {
        openblas_set_num_threads(Int32(max(1, n)))
    }

    /// Current OpenBLAS thread count.
    public static var threads: Int { Int(openblas_get_num_threads()) }

    /// `C[m×n] = alpha · op(A) · op(B) + beta · C`, all row-major with leading dimensions.
    ///
    /// `op(A)` is `m×k`, `op(B)` is `k×n`; `transA`/`transB` say whether the stored matrix is transposed.
    @inline(__always)
    public static func gemm(
        transA: Bool = false, transB: Bool = false,
        m: Int, n: Int, k: Int,
        alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        cblas_sgemm(CblasRowMajor,
                    transA ? CblasTrans : CblasNoTrans,
                    transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha,
                    a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// Complex `C[m×n] = op(A) · op(B) + beta·C` on interleaved (re, im) Float pairs, row-major.
    ///
    /// `conjTransA`/`conjTransB` apply the conjugate transpose; used for per-frequency channel mixing.
    @inline(__always)
    public static func cgemm(
        conjTransA: Bool = false, conjTransB: Bool = false,
        m: Int, n: Int, k: Int,
        a: UnsafeRawPointer, lda: Int,
        b: UnsafeRawPointer, ldb: Int,
        beta: (Float, Float) = (0, 0),
        c: UnsafeMutableRawPointer, ldc: Int
    ) {
        var one: (Float, Float) = (1, 0)
        var bt = beta
        withUnsafePointer(to: &one) { alphaPtr in
            withUnsafePointer(to: &bt) { betaPtr in
                cblas_cgemm(CblasRowMajor,
                            conjTransA ? CblasConjTrans : CblasNoTrans,
                            conjTransB ? CblasConjTrans : CblasNoTrans,
                            Int32(m), Int32(n), Int32(k),
                            UnsafeRawPointer(alphaPtr), a, Int32(lda), b, Int32(ldb),
                            UnsafeRawPointer(betaPtr), c, Int32(ldc))
            }
        }
    }

    /// Matrix product of two rank-2 tensors (convenience for tests and small code).
    public static func matmul(_ a: Tensor, _ b: Tensor, transA: Bool = false, transB: Bool = false) throws -> Tensor {
        guard a.rank == 2, b.rank == 2 else {
            throw TensorError(.shapeMismatch, "matmul needs rank-2 tensors, got \(a.shape) and \(b.shape)")
        }
        let (m, ka) = transA ? (a.shape[1], a.shape[0]) : (a.shape[0], a.shape[1])
        let (kb, n) = transB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
        guard ka == kb else {
            throw TensorError(.shapeMismatch, "matmul inner sizes differ: \(a.shape)\(transA ? "ᵀ" : "") · \(b.shape)\(transB ? "ᵀ" : "")")
        }
        var out = Tensor(zeros: [m, n])
        a.data.withUnsafeBufferPointer { pa in
            b.data.withUnsafeBufferPointer { pb in
                out.data.withUnsafeMutableBufferPointer { pc in
                    gemm(transA: transA, transB: transB, m: m, n: n, k: ka,
                         a: pa.baseAddress!, lda: a.shape[1], b: pb.baseAddress!, ldb: b.shape[1],
                         c: pc.baseAddress!, ldc: n)
                }
            }
        }
        return out
    }
}
