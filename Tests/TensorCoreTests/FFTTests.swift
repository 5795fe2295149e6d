import Testing
@testable import TensorCore
import TestSupport
import Trials

@Suite struct FFTTests {
    /// Batch 2: with 5×7 the second image starts 140 bytes in, so it runs FFTW's unaligned plan and the
    /// first the SIMD-aligned one; both are checked against the naive DFT.
    @Test(arguments: [(4, 4), (5, 7), (8, 6), (16, 16)])
    func realForwardMatchesNaiveDFT(h: Int, w: Int) throws {
        var rng = SeededRNG(seed: UInt64(h * 31 + w))
        let x = Tensor.randomNormal([2, h, w], rng: &rng)
        let wc = w / 2 + 1
        var out = [Float](repeating: 0, count: 2 * 2 * h * wc)
        try x.data.withUnsafeBufferPointer { src in
            try out.withUnsafeMutableBufferPointer { dst in
                try FFT.forwardReal(src.baseAddress!, dst.baseAddress!, batch: 2, h: h, w: w, scale: FFT.orthoScale(h, w))
            }
        }
        for b in 0..<2 {
            let ref = Reference.dft2(Array(x.data[(b * h * w)..<((b + 1) * h * w)]), h: h, w: w)
            for u in 0..<h { for v in 0..<wc {
                let o = b * 2 * h * wc + 2 * (u * wc + v)
                expectClose(Double(out[o]), ref.re[u * w + v], .absolute(1e-4))
                expectClose(Double(out[o + 1]), ref.im[u * w + v], .absolute(1e-4))
            } }
        }
    }

    @Test func inverseRealUndoesForwardAndPreservesInput() throws {
        let h = 6, w = 9, wc = w / 2 + 1
        var rng = SeededRNG(seed: 3)
        let x = Tensor.randomNormal([3, h, w], rng: &rng)
        var spec = [Float](repeating: 0, count: 3 * 2 * h * wc)
        var back = [Float](repeating: 0, count: 3 * h * w)
        let s = FFT.orthoScale(h, w)
        try x.data.withUnsafeBufferPointer { try FFT.forwardReal($0.baseAddress!, &spec, batch: 3, h: h, w: w, scale: s) }
        let specCopy = spec
        try spec.withUnsafeBufferPointer { try FFT.inverseReal($0.baseAddress!, &back, batch: 3, h: h, w: w, scale: s) }
        #expect(spec == specCopy, "inverse must not modify its input")
        for i in 0..<back.count { expectClose(back[i], x.data[i], .absolute(1e-5)) }
    }

    @Test func spectrumIsOrthonormal() throws {
        // Parseval: the orthonormal transform preserves the squared norm.
        var rng = SeededRNG(seed: 11)
        let x = Tensor.randomNormal([2, 3, 8, 8], rng: &rng)
        let s = try FFT.spectrum(x)
        #expect(s.shape == [2, 3, 8, 8, 2])
        expectClose(s.squaredNorm, x.squaredNorm, .relative(1e-3))
        // DC term of one image equals sum/sqrt(HW).
        let dc = x.data[0..<64].reduce(0, +) / 8
        expectClose(s.data[0], dc, .absolute(1e-4))
    }

    @Test func complexInverseUndoesForward() throws {
        let h = 5, w = 4
        var rng = SeededRNG(seed: 5)
        let x = Tensor.randomNormal([2 * h * w], rng: &rng)
        var f = [Float](repeating: 0, count: x.count), g = f
        let s = FFT.orthoScale(h, w)
        try x.data.withUnsafeBufferPointer { try FFT.complex($0.baseAddress!, &f, batch: 1, h: h, w: w, scale: s) }
        try f.withUnsafeBufferPointer { try FFT.complex($0.baseAddress!, &g, batch: 1, h: h, w: w, inverse: true, scale: s) }
        for i in 0..<g.count { expectClose(g[i], x.data[i], .absolute(1e-5)) }
    }
}
