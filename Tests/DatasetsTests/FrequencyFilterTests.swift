import Foundation
import Testing
import TensorCore
import Trials
@testable import Datasets
import TestSupport

/// Index of the frequency `−f` on an axis of length n.
private func mirror(_ i: Int, _ n: Int) -> Int { (n - i) % n }

/// Checks, with the naive DFT, that the output spectrum is `X(f)·(m(f) + m(−f))/2` — the real part of
/// the masked inverse — where `m` is 1 for kept frequencies; for symmetric masks this is `m(f)·X(f)`.
private func checkFilter(_ filter: FrequencyFilter, n: Int, sourceLocation: SourceLocation = #_sourceLocation) throws {
    var rng = SeededRNG(seed: 42)
    let x = Tensor.randomUniform([2, 2, n, n], 0, 1, rng: &rng)
    let y = try filter.apply(x)
    let keep = { (i: Int, j: Int) -> Double in
        let inS = filter.inSet(ky: signedFrequency(i, n), kx: signedFrequency(j, n))
        return (inS == (filter.kind == .lowPass)) ? 1 : 0
    }
    for p in 0..<4 {
        let xi = Array(x.data[(p * n * n)..<((p + 1) * n * n)]), yi = Array(y.data[(p * n * n)..<((p + 1) * n * n)])
        let (xr, xim) = Reference.dft2(xi, h: n, w: n)
        let (yr, yim) = Reference.dft2(yi, h: n, w: n)
        for i in 0..<n {
            for j in 0..<n {
                let g = (keep(i, j) + keep(mirror(i, n), mirror(j, n))) / 2
                let k = i * n + j
                expectClose(yr[k], g * xr[k], .absolute(1e-4), "\(filter) at (\(i), \(j)), real part", sourceLocation: sourceLocation)
                expectClose(yim[k], g * xim[k], .absolute(1e-4), "\(filter) at (\(i), \(j)), imaginary part", sourceLocation: sourceLocation)
            }
        }
    }
}

@Test(arguments: [FrequencyFilter.Compat.clean, .paper], [FrequencyFilter.Shape.square, .circle])
func highPassRemovesExactlyTheMaskedCoefficients(compat: FrequencyFilter.Compat, shape: FrequencyFilter.Shape) throws {
    try checkFilter(FrequencyFilter(kind: .highPass, shape: shape, compat: compat, cutoff: 2), n: 8)
}

@Test(arguments: [FrequencyFilter.Compat.clean, .paper], [FrequencyFilter.Shape.square, .circle])
func lowPassKeepsExactlyTheMaskedCoefficients(compat: FrequencyFilter.Compat, shape: FrequencyFilter.Shape) throws {
    try checkFilter(FrequencyFilter(kind: .lowPass, shape: shape, compat: compat, cutoff: 3), n: 8)
}

@Test func paperHPFMaskIsTheHalfOpenSquare() {
    let clean = FrequencyFilter.paperHPF(size: 32), paper = FrequencyFilter.paperHPF(size: 32, compat: .paper)
    #expect(clean.cutoff == 8)
    #expect(clean.inSet(ky: 7, kx: -7) && !clean.inSet(ky: 8, kx: 0) && !clean.inSet(ky: -8, kx: 0))
    #expect(paper.inSet(ky: -8, kx: -8) && paper.inSet(ky: 7, kx: 7) && !paper.inSet(ky: 8, kx: 0) && !paper.inSet(ky: 0, kx: 8))
    // Clean: 15×15 removed coefficients; paper: 16×16.
    #expect(clean.mask(h: 32, w: 32).filter { $0 == 0 }.count == 225)
    #expect(paper.mask(h: 32, w: 32).filter { $0 == 0 }.count == 256)
}

@Test func paperHPFHalvesTheUnpairedComponent() throws {
    // A pure cosine at ky = −2 (= +2 paired) on 8×8: the paper mask [−2, 1] removes −2 but keeps +2,
    // so the real part keeps half the amplitude; the clean mask |k| < 2 keeps all of it.
    let n = 8
    var x = Tensor(zeros: [1, 1, n, n])
    for y in 0..<n { for xx in 0..<n { x[0, 0, y, xx] = Float(cos(2 * Double.pi * 2 * Double(y) / Double(n))) } }
    let paper = try FrequencyFilter(kind: .highPass, compat: .paper, cutoff: 2).apply(x)
    let clean = try FrequencyFilter(kind: .highPass, compat: .clean, cutoff: 2).apply(x)
    for k in 0..<x.count {
        expectClose(paper.data[k], 0.5 * x.data[k], .absolute(1e-5))
        expectClose(clean.data[k], x.data[k], .absolute(1e-5))
    }
}
