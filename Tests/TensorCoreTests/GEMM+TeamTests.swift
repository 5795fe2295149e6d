import Testing
@testable import TensorCore
import TestSupport
import Trials

@Suite struct GEMMTeamTests {
    @Test("column-split GEMM matches the naive product for every transpose and split",
          arguments: [(false, false), (true, false), (false, true), (true, true)], [1, 2, 3])
    func matchesNaiveProduct(_ trans: (Bool, Bool), threads: Int) throws {
        let (m, n, k) = (7, 200, 13)  // n ≥ 64 per part, so the split really happens
        var rng = SeededRNG(seed: 5)
        let a = Tensor.randomNormal([m, k], rng: &rng), b = Tensor.randomNormal([k, n], rng: &rng)
        // Stored operands: transposed copies when the flag says so.
        var aStored = a, bStored = b
        if trans.0 { aStored = Tensor(zeros: [k, m]); for i in 0..<m { for j in 0..<k { aStored[j, i] = a[i, j] } } }
        if trans.1 { bStored = Tensor(zeros: [n, k]); for i in 0..<k { for j in 0..<n { bStored[j, i] = b[i, j] } } }
        let c0 = Tensor.randomNormal([m, n], rng: &rng)
        var c = c0
        aStored.data.withUnsafeBufferPointer { ap in
        bStored.data.withUnsafeBufferPointer { bp in
        c.data.withUnsafeMutableBufferPointer { cp in
            BLAS.teamGemm(transA: trans.0, transB: trans.1, m: m, n: n, k: k, a: ap.baseAddress!, lda: trans.0 ? m : k,
                          b: bp.baseAddress!, ldb: trans.1 ? k : n, beta: 1, c: cp.baseAddress!, ldc: n, threads: threads)
        }}}
        let expected = Reference.matmul(a, b)
        expectClose(zip(c.data, c0.data).map { $0 - $1 }, expected.data, .absolute(1e-4 * Double(k)))
    }
}
