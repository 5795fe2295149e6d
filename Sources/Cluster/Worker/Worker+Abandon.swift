import Foundation

extension Worker {
    /// Exit code of a worker that gave up on an unreachable coordinator (EX_TEMPFAIL: try again later).
    public static let gaveUpExitCode: Int32 = 75

    /// The coordinator marked the sweep finished (its marker file exists): there is nothing left to lease, so
    /// the worker leaves at once with 0 — a Slurm task that starts after the end frees its allocation.
    /// A trial still running (a marker written while this worker was cut off) is stopped like on a signal.
    public mutating func onSweepMarkedFinished(now: Date) -> [Directive] {
        guard !exited else { return [] }
        return beginStop(code: 0, reason: "the coordinator marked the sweep finished", now: now)
    }

    /// Gives up when no coordinator has said anything for `giveUpAfter` and no trial runs: the worker exits
    /// with `gaveUpExitCode` instead of holding a batch allocation while reconnecting forever. Results still
    /// in the outbox stay on disk; a worker started later with the same id sends them.
    mutating func giveUpIfAbandoned(now: Date) -> [Directive]? {
        guard let limit = settings.giveUpAfter, current == nil, stopping == nil,
              now.timeIntervalSince(lastAnswer) >= limit else { return nil }
        exited = true
        let kept = outbox.isEmpty ? "" : "; \(outbox.count) unacknowledged result(s) stay in the outbox for the next worker with this id"
        return [.log(.error, "no coordinator answered for \(Int(limit.rounded())) s; giving up (--give-up-after)\(kept)"),
                .exit(Worker.gaveUpExitCode)]
    }
}
