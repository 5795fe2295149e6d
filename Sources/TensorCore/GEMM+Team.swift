/// Runs `body` with OpenBLAS limited to one thread while our own loop is parallel: nested BLAS
/// threads inside `Parallel.forChunks` oversubscribe the cores (OpenBLAS threads spin-wait), which
/// measured 2–3× slower than either level alone. The previous count is restored afterwards. This
/// changes process-wide OpenBLAS state, which is fine because a process trains one model at a time.
public func withSerialBLAS<T>(_ parallel: Bool, _ body: () throws -> T) rethrows -> T {
    let saved = BLAS.threads
    guard parallel, saved > 1 else { return try body() }
    BLAS.setThreads(1)
    defer { BLAS.setThreads(saved) }
    return try body()
}

extension BLAS {
    /// `gemm` with the columns of `C` split over `Parallel`'s threads and OpenBLAS serial in each part.
    ///
    /// With oneDNN present our loops run on its OpenMP team; OpenBLAS's own threads would wait beside
    /// that team, yielding in a loop, and took ~20% of a 2-thread VGG11 step in `perf` (scheduler and
    /// spin time). Splitting the product ourselves keeps one set of threads on the cores. The split
    /// is fixed by the thread count, so results are reproducible for a fixed count.
    public static func teamGemm(
        transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int, threads team: Int? = nil
    ) {
        let parts = min(team ?? Parallel.threads, max(1, n / 64))
        // Serial even for one part: a small product must not wake OpenBLAS's threads either.
        withSerialBLAS(true) {
            Parallel.forChunks(parts, threads: parts) { range in
                for part in range {
                    let j0 = n * part / parts, j1 = n * (part + 1) / parts
                    gemm(transA: transA, transB: transB, m: m, n: j1 - j0, k: k, a: a, lda: lda,
                         b: transB ? b + j0 * ldb : b + j0, ldb: ldb, beta: beta, c: c + j0, ldc: ldc)
                }
            }
        }
    }
}
