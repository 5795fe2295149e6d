import Testing
import TensorCore
@testable import Probes
import TestSupport

@Suite struct FourierBasisTests {
    /// Every basis image has unit norm, distinct ones are orthogonal (Gram matrix = I), and the naive DFT of
    /// the real image is exactly the prescribed Hermitian spectrum, so nothing was lost by keeping the real part.
    @Test(arguments: [(6, 6), (5, 4)]) func basisIsOrthonormalAndReal(_ size: (Int, Int)) throws {
        let (h, w) = size
        var images: [[Double]] = []
        for i in 0..<h { for j in 0..<w { images.append(try FourierBasis.image(i, j, h: h, w: w).data.map(Double.init)) } }
        var worst = 0.0
        for a in 0..<images.count {
            for b in 0..<images.count {
                let dot = zip(images[a], images[b]).reduce(0) { $0 + $1.0 * $1.1 }
                worst = max(worst, abs(dot - (a == b ? 1 : 0)))
            }
        }
        #expect(worst < 1e-5, "Gram matrix deviates from I by \(worst)")
        for i in 0..<h {
            for j in 0..<w {
                let (re, im) = Reference.dft2(images[i * w + j], h: h, w: w)
                let mi = (h - i) % h, mj = (w - j) % w
                for u in 0..<h {
                    for v in 0..<w {
                        var er = 0.0, ei = 0.0
                        if (u, v) == (i, j) && (mi, mj) == (i, j) { er = 1 }
                        else if (u, v) == (i, j) { er = 0.5; ei = 0.5 }
                        else if (u, v) == (mi, mj) { er = 0.5; ei = -0.5 }
                        expectClose(re[u * w + v], er, .absolute(1e-5), "basis (\(i),\(j)) coefficient (\(u),\(v)), real part")
                        expectClose(im[u * w + v], ei, .absolute(1e-5), "basis (\(i),\(j)) coefficient (\(u),\(v)), imaginary part")
                    }
                }
            }
        }
    }

    @Test func halfGridCoversEveryFrequencyOnceWithItsMirror() {
        for (h, w) in [(8, 8), (7, 5)] {
            var seen = [Int](repeating: 0, count: h * w)
            for (i, j) in FourierBasis.halfGrid(h: h, w: w) {
                let (mi, mj) = FourierBasis.mirror(i, j, h: h, w: w)
                seen[i * w + j] += 1
                if (mi, mj) != (i, j) { seen[mi * w + mj] += 1 }
            }
            #expect(seen.allSatisfy { $0 == 1 })
        }
    }

    @Test func badIndexIsAnError() {
        #expect(throws: ProbeError.self) { try FourierBasis.image(8, 0, h: 8, w: 8) }
    }
}
