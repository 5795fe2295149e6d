import Testing
import TensorCore
@testable import Datasets
import TestSupport
import Trials

@Test func outputRangesKeepOrRescalePerImage() throws {
    var rng = SeededRNG(seed: 8)
    let x = Tensor.randomUniform([3, 2, 8, 8], 0, 1, rng: &rng)
    let f = FrequencyFilter(kind: .highPass, shape: .circle, cutoff: 2)
    let raw = try f.apply(x)
    #expect(raw.data.contains { $0 < 0 }, "a high-pass image has negative pixels")
    #expect(try f.apply(x, range: .unchanged) == raw)
    let rescaled = try f.apply(x, range: .paperRescale)
    for i in 0..<3 {
        let r = (i * 128)..<((i + 1) * 128)
        let m = raw.data[r].max()!
        for k in r { expectClose(rescaled.data[k], raw.data[k] / m, .absolute(1e-7)) }
        #expect(rescaled.data[r].max()! == 1)
    }
    // An all-zero image (nothing left after filtering) stays zero instead of becoming NaN.
    let flat = try FrequencyFilter(kind: .highPass, shape: .circle, cutoff: 1).apply(Tensor(zeros: [1, 1, 4, 4]), range: .paperRescale)
    #expect(flat.data.allSatisfy { $0 == 0 })
}
