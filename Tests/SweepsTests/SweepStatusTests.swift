import Testing
@testable import Sweeps

@Suite struct SweepStatusTests {
    @Test("durations read as seconds, minutes+seconds or hours+minutes, and '-' when unknown",
          arguments: [(0.0, "0s"), (41.6, "42s"), (119.4, "119s"), (542, "9m02s"), (7199, "119m59s"),
                      (11_100, "3h05m"), (-1, "-"), (.nan, "-"), (.infinity, "-")])
    func durationText(_ c: (Double, String)) {
        #expect(SweepStatus.format(seconds: c.0) == c.1)
    }
}
