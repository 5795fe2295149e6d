import Testing
@testable import TensorCore
import TestSupport
import Trials

@Suite struct GEMMTests {
    @Test(arguments: [(1, 1, 1), (3, 5, 4), (17, 9, 33), (64, 7, 65)])
    func matmulMatchesNaiveLoop(m: Int, n: Int, k: Int) throws {
        var rng = SeededRNG(seed: UInt64(m * 1000 + n * 10 + k))
        let a = Tensor.randomNormal([m, k], rng: &rng), b = Tensor.randomNormal([k, n], rng: &rng)
        let fast = try BLAS.matmul(a, b), slow = Reference.matmul(a, b)
        // Float32 accumulation over k terms of unit-variance products: error ~ sqrt(k)·ε·|value|.
        for i in 0..<fast.count { expectClose(fast.data[i], slow.data[i], .absolute(1e-4 * Double(k))) }
    }

    @Test func transposedOperandsMatchExplicitTranspose() throws {
        var rng = SeededRNG(seed: 7)
        let a = Tensor.randomNormal([6, 4], rng: &rng), b = Tensor.randomNormal([5, 6], rng: &rng)
        var at = Tensor(zeros: [4, 6]), bt = Tensor(zeros: [6, 5])
        for i in 0..<6 { for j in 0..<4 { at[j, i] = a[i, j] } }
        for i in 0..<5 { for j in 0..<6 { bt[j, i] = b[i, j] } }
        let viaFlags = try BLAS.matmul(a, b, transA: true, transB: true)  // aᵀ(4×6)·bᵀ(6×5)
        let explicit = Reference.matmul(at, bt)
        for i in 0..<viaFlags.count { expectClose(viaFlags.data[i], explicit.data[i], .absolute(1e-4)) }
    }

    @Test func shapeMismatchIsAReadableError() {
        #expect(throws: TensorError.self) { try BLAS.matmul(Tensor(zeros: [2, 3]), Tensor(zeros: [4, 2])) }
        do { _ = try BLAS.matmul(Tensor(zeros: [2, 3]), Tensor(zeros: [4, 2])) } catch let e as TensorError {
            #expect(e.code == .shapeMismatch)
            #expect(e.message.contains("[2, 3]") && e.message.contains("[4, 2]"))
        } catch { Issue.record("unexpected error \(error)") }
    }
}
