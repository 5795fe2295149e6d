import Foundation
import Trials

/// The figures of one fault benchmark run and the invariants that failed (none, when the guarantees hold).
public struct ChaosReport: Codable, Sendable {
    public var seed: UInt64
    public var workers: Int
    public var trials: Int
    public var maxAttempts: Int
    /// Seconds of faults as run (shorter than asked if the sweep finished first).
    public var faultSeconds: Double
    /// Seconds from the end of the faults until the sweep finished.
    public var finishSeconds: Double
    /// Seconds from the first coordinator start until the sweep finished.
    public var wallSeconds: Double
    public var workerKills: Int
    public var coordinatorKills: Int
    /// Worker kills skipped because the worker's trial had no attempt to spare.
    public var workerKillsSpared: Int
    /// Executions logged by the runner, executions beyond each trial's first, and how many of those a worker
    /// kill explains (the rest are unexplained and fail the run).
    public var executions: Int
    public var duplicateExecutions: Int
    public var duplicatesExplainedByWorkerKills: Int
    public var duplicatesUnexplained: Int
    /// Attempts spent by executions lost to kills (leases that started and were taken back, charged).
    public var attemptsSpentByKills: Int
    /// Leases re-adopted by reconnecting workers after coordinator restarts (store events).
    public var leasesReadopted: Int
    /// Results the store refused (forged, stale), as recorded in its events.
    public var resultsRefusedByStore: Int
    public var hostile: HostileTally
    /// Peak resident memory of each coordinator incarnation (MiB), and the largest.
    public var coordinatorPeakRSSMiB: [Double]
    public var peakCoordinatorRSSMiB: Double
    /// Workers the benchmark had to stop after the sweep (they never heard it was over).
    public var workersStoppedAfterSweep: Int
    public var violations: [ChaosViolation]
    /// Where the run's files are (kept when it failed).
    public var scratch: String

    /// Whether every invariant held.
    public var passed: Bool { violations.isEmpty }

    /// Human-readable summary, one figure per line.
    public var text: String {
        let h = hostile
        var lines = [
            String(format: "%d workers, %d trials (max_attempts %d), seed %llu: %.0f s of faults, then %.1f s to finish (wall %.1f s)",
                   workers, trials, maxAttempts, seed, faultSeconds, finishSeconds, wallSeconds),
            "kills survived: \(workerKills) worker kill -9 (\(workerKillsSpared) spared to keep a last attempt), \(coordinatorKills) coordinator kill -9",
            "executions: \(executions); duplicates \(duplicateExecutions) = \(duplicatesExplainedByWorkerKills) explained by worker kills"
                + " + \(duplicatesUnexplained) unexplained; attempts spent by kills \(attemptsSpentByKills); leases re-adopted \(leasesReadopted)",
            "hostile: \(h.attacks) attacks; forged \(h.forgedSent) sent, \(h.forgedRefused) refused, \(h.forgedAcknowledged) acknowledged, "
                + "\(h.forgedUnanswered) unanswered; \(h.floodReadies) flood READYs (\(h.floodLeases) leases taken and abandoned); "
                + "\(h.oversizedSent) oversized and \(h.garbageSent) malformed messages (\(h.garbageErrors) ERROR replies)",
            String(format: "peak coordinator RSS %.1f MiB over %d incarnations", peakCoordinatorRSSMiB, coordinatorPeakRSSMiB.count),
        ]
        if workersStoppedAfterSweep > 0 { lines.append("\(workersStoppedAfterSweep) worker(s) stopped by the benchmark after the sweep") }
        lines.append(passed ? "all invariants hold" : "INVARIANTS FAILED (files kept in \(scratch)):")
        lines += violations.map { "  \($0)" }
        return lines.joined(separator: "\n")
    }

    /// The report as one JSON object (sorted keys).
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}
