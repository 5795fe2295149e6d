import Foundation
import Testing
@testable import Cluster
import Sweeps

@Suite struct ProgressLineTests {
    @Test func rateAndETACountOnlyTrialsFinishedInThisRun() {
        let start = Date(timeIntervalSince1970: 0)
        let line = ProgressLine(startedAt: start, doneAtStart: 10)
        // 6 finished in 2 minutes → 3 trials/min; 9 left → 3 minutes.
        let text = line.render(SweepStore.Counts(pending: 7, leased: 2, done: 16, failed: 1), workers: 2, now: start.addingTimeInterval(120))
        #expect(text == "16/26 done · 2 leased · 7 pending · 1 failed · 3.0 trials/min · ETA 3m00s · 2 workers")
        let idle = line.render(SweepStore.Counts(pending: 5, leased: 0, done: 10, failed: 0), workers: 1, now: start.addingTimeInterval(60))
        #expect(idle.contains("ETA --") && idle.hasSuffix("1 worker"))
    }
}
