import Testing
import TestSupport
import Trials

@Suite struct MedianTests {
    /// The upper median is the element with exactly ⌊n/2⌋ elements below it in sorted order (counted by a naive
    /// loop over distinct values), for random arrays with repeats; nil when empty.
    @Test func isTheElementWithHalfTheOthersBelowIt() {
        #expect([Int]().upperMedian == nil)
        #expect([3.0, 1, 2].upperMedian == 2 && [4, 1, 3, 2].upperMedian == 3)
        var rng = SplitMix(seed: 11)
        for _ in 0..<200 {
            let xs = (0..<(1 + rng.below(9))).map { _ in rng.below(5) }
            guard let m = xs.upperMedian else { Issue.record("nil for \(xs)"); continue }
            let below = xs.filter { $0 < m }.count, upTo = xs.filter { $0 <= m }.count
            #expect(below <= xs.count / 2 && xs.count / 2 < upTo, "\(xs) → \(m)")
        }
    }
}
