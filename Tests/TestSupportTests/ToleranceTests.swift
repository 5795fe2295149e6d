import Testing
import TestSupport

/// The tolerance check decides every numerical test, so it is checked against hand-computed bounds here.
@Suite("Tolerance")
struct ToleranceTests {
    @Test("absolute: the bound is inclusive and independent of magnitude")
    func absolute() {
        #expect(Closeness([1.0, 100.5], [1.5, 100.0], .absolute(0.5)).passed)
        let c = Closeness([1.0, 100.6], [1.5, 100.0], .absolute(0.5))
        #expect(c.failures == 1 && c.worst?.index == 1)
    }

    @Test("relative: scaled by each reference value, floored near zero")
    func relative() {
        #expect(Closeness([101.0, 0.00105], [100.0, 0.001], .relative(0.1)).passed)
        #expect(!Closeness([0.0], [1e-9], .relative(0.1)).passed)
        #expect(Closeness([0.05], [1e-9], .relative(0.1, floor: 1)).passed)
        #expect(!Closeness([0.2], [1e-9], .relative(0.1, floor: 1)).passed)
    }

    @Test("relativeToLargest: a small value next to large ones gets the large ones' bound")
    func largest() {
        let expected: [Float] = [1000, 0.01]
        #expect(Closeness([Float(1000), 0.5], expected, .relativeToLargest(1e-3)).passed)  // 0.49 ≤ 1
        #expect(!Closeness([Float(1000), 0.5], expected, .relative(1e-3)).passed)
        #expect(!Closeness([Float(1000), 2.5], expected, .relativeToLargest(1e-3)).passed)
    }

    @Test("ulps: counted in the element type at the reference's magnitude")
    func ulps() {
        let one: Float = 1
        #expect(Closeness([one.nextUp.nextUp], [one], .ulps(2)).passed)
        #expect(!Closeness([one.nextUp.nextUp.nextUp], [one], .ulps(2)).passed)
        let big = 1e10
        #expect(Closeness([big + 2 * big.ulp], [big], .ulps(2)).passed)
        #expect(!Closeness([big + 4 * big.ulp], [big], .ulps(2)).passed)
    }

    @Test("NaN never passes; equal infinities do; the worst value is the one furthest past its bound")
    func specialValues() {
        #expect(!Closeness([Double.nan], [Double.nan], .absolute(1)).passed)
        #expect(Closeness([Double.infinity], [Double.infinity], .absolute(0)).passed)
        let c = Closeness([1.2, 5.0, 2.05], [1.0, 4.0, 2.0], .absolute(0.1))
        #expect(c.failures == 2 && c.count == 3 && c.worst?.index == 1 && c.worst?.difference == 1)
    }
}

@Suite("expectClose")
struct ExpectCloseTests {
    @Test("records an issue exactly when a value is out of tolerance or the counts differ")
    func recordsIssues() {
        withKnownIssue { expectClose(1.0, 1.2, .absolute(0.1)) }
        withKnownIssue { expectClose([1.0, 2.0, 3.0], [1.0, 2.5, 3.0], .relative(0.1)) }
        withKnownIssue { expectClose([1.0, 2.0], [1.0], .absolute(1)) }
        expectClose(1.0, 1.05, .absolute(0.1))
        expectClose([Float(1), 2], [1, 2], .ulps(0))
    }
}
