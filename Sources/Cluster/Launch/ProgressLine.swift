import Foundation
import Sweeps

/// The live one-line summary `fsweep run` redraws: counts, throughput and ETA.
public struct ProgressLine: Sendable {
    public var startedAt: Date
    /// Trials already done when this run started (resumed sweeps), excluded from the rate.
    public var doneAtStart: Int

    public init(startedAt: Date, doneAtStart: Int) {
        self.startedAt = startedAt
        self.doneAtStart = doneAtStart
    }

    /// Renders e.g. `12/40 done · 2 running · 26 pending · 0 failed · 3.1 trials/min · ETA 9m02s · 2 workers`.
    public func render(_ c: SweepStore.Counts, workers: Int, now: Date) -> String {
        let minutes = max(now.timeIntervalSince(startedAt), 1e-9) / 60
        let finishedHere = max(0, c.done - doneAtStart)
        let rate = Double(finishedHere) / minutes
        let remaining = c.pending + c.leased
        var eta = "ETA --"
        if rate > 0 && remaining > 0 && c.leased > 0 {  // no ETA while nothing runs
            eta = "ETA " + SweepStatus.format(seconds: Double(remaining) / rate * 60)
        } else if remaining == 0 {
            eta = "ETA 0s"
        }
        return "\(c.done)/\(c.total) done · \(c.leased) leased · \(c.pending) pending · \(c.failed) failed · "
            + String(format: "%.1f trials/min", rate) + " · \(eta) · \(workers) worker\(workers == 1 ? "" : "s")"
    }
}
