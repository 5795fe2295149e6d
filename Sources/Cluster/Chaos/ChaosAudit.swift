import Foundation
import Trials
import Sweeps

/// One invariant that did not hold, with the evidence (trial ids, log lines, lease rows).
public struct ChaosViolation: Codable, Sendable, Equatable, CustomStringConvertible {
    public var invariant: String
    public var detail: String
    public init(_ invariant: String, _ detail: String) {
        self.invariant = invariant
        self.detail = detail
    }
    public var description: String { "\(invariant): \(detail)" }
}

/// The fault benchmark's invariants, checked from evidence alone (no processes, no sockets), so tests can
/// show each check fails on the evidence of a fault it is meant to catch.
///
/// - every trial is done, none failed;
/// - exactly one result row per trial, none for unknown trials;
/// - no stored result is forged: it came from a real worker over its own connection, under a lease that worker
///   held, with the metrics an execution of that trial printed (its runner pid);
/// - no forged message was acknowledged, and no lease of a hostile peer ever started;
/// - a trial ran more than once only when a worker running it was killed: every execution beyond the first
///   is matched by a worker kill that interrupted an execution of that trial (coordinator kills explain none);
/// - attempts are consistent: a trial's attempts equal its leases that started and were not given back
///   uncharged, lie in 1…max_attempts, and every spent attempt that did not end in the result is matched by a
///   kill of the lease's worker while it held the lease;
/// - every lease is closed once the sweep is over;
/// - no process ended unless the benchmark killed it or the sweep was over.
public enum ChaosAudit {
    /// Counts derived from the evidence.
    public struct Figures: Sendable, Equatable {
        public var executions = 0
        public var duplicates = 0
        public var explained = 0
        public var unexplained = 0
        public var interruptedExecutions = 0
        public var attemptsSpentByKills = 0
    }

    /// Checks every invariant; returns the figures and the violations (empty when all hold).
    public static func check(_ e: ChaosEvidence) -> (Figures, [ChaosViolation]) {
        let (figures, duplicateViolations) = duplicates(e)
        var v = completion(e) + resultRows(e) + forgery(e) + duplicateViolations + attempts(e)
        let open = e.leases.filter { $0.outcome == nil }
        if !open.isEmpty { v.append(ChaosViolation("leases-closed", "\(open.count) lease(s) still open: \(sample(open.map(describe)))")) }
        v += e.processProblems.map { ChaosViolation("processes", $0) }
        var f = figures
        f.attemptsSpentByKills = e.leases.filter { $0.charged && $0.outcome != "done" }.count
        return (f, v)
    }

    private static func completion(_ e: ChaosEvidence) -> [ChaosViolation] {
        var v: [ChaosViolation] = []
        let failed = e.records.filter { $0.state == .failed }
        if !failed.isEmpty {
            v.append(ChaosViolation("no-trial-failed", "\(failed.count) failed: "
                + sample(failed.map { "\($0.id) after \($0.attempts) attempt(s): \($0.error ?? "?")" })))
        }
        let unfinished = e.records.filter { $0.state == .pending || $0.state == .leased }
        if !unfinished.isEmpty {
            v.append(ChaosViolation("every-trial-done", "\(unfinished.count) not done: \(sample(unfinished.map { "\($0.id) \($0.state.rawValue)" }))"))
        }
        return v
    }

    private static func resultRows(_ e: ChaosEvidence) -> [ChaosViolation] {
        let rows = Dictionary(grouping: e.results, by: \.trialID)
        let known = Set(e.records.map(\.id))
        var problems: [String] = []
        for r in e.records where rows[r.id]?.count != 1 { problems.append("\(r.id) has \(rows[r.id]?.count ?? 0) result rows") }
        for id in rows.keys.sorted() where !known.contains(id) { problems.append("result row for unknown trial \(id)") }
        return problems.isEmpty ? [] : [ChaosViolation("one-result-each", "\(problems.count) problem(s): \(sample(problems))")]
    }

    private static func forgery(_ e: ChaosEvidence) -> [ChaosViolation] {
        let leases = Dictionary(e.leases.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let runners = Dictionary(grouping: e.executions, by: \.trialID).mapValues { Set($0.map(\.pid)) }
        var problems: [String] = []
        for r in e.results {
            let lease = r.leaseID.flatMap { leases[$0] }
            let pid = r.metrics["runner_pid"].flatMap { $0.isFinite ? Int32(exactly: $0) : nil }
            if r.metrics["FORGED"] != nil {
                problems.append("\(r.trialID) carries forged metrics \(r.metrics)")
            } else if lease == nil || lease?.trialID != r.trialID || !(lease.map { e.isReal($0.owner) } ?? false) || lease?.owner.worker != r.worker {
                problems.append("\(r.trialID) stored under \(lease.map(describe) ?? "unknown lease \(r.leaseID.map(String.init) ?? "nil")") from \(r.worker ?? "?")")
            } else if pid == nil || !(runners[r.trialID]?.contains(pid ?? -1) ?? false) {
                problems.append("\(r.trialID) result names runner pid \(r.metrics["runner_pid"].map { String($0) } ?? "none"), which never started it")
            }
        }
        var v = problems.isEmpty ? [] : [ChaosViolation("no-forged-result", "\(problems.count) result(s): \(sample(problems))")]
        if e.hostile.forgedAcknowledged > 0 {
            v.append(ChaosViolation("forged-refused", "\(e.hostile.forgedAcknowledged) forged message(s) were acknowledged"))
        }
        let hostileStarted = e.leases.filter { !e.isReal($0.owner) && $0.startedAt != nil }
        if !hostileStarted.isEmpty {
            v.append(ChaosViolation("hostile-leases-never-start", "\(hostileStarted.count) lease(s): \(sample(hostileStarted.map(describe)))"))
        }
        return v
    }

    /// Executions beyond each trial's first, and how many a worker kill explains.
    private static func duplicates(_ e: ChaosEvidence) -> (Figures, [ChaosViolation]) {
        let interrupted = Set(e.workerKills.flatMap(\.interrupted))
        var f = Figures()
        f.executions = e.executions.count
        var unexplained: [String] = []
        for (trial, runs) in Dictionary(grouping: e.executions, by: \.trialID).sorted(by: { $0.key < $1.key }) {
            let killed = runs.filter { interrupted.contains(WorkerKill.Interrupted(trialID: trial, runner: $0.pid)) }.count
            let extra = runs.count - 1
            f.interruptedExecutions += killed
            f.duplicates += extra
            f.explained += min(extra, killed)
            if extra > killed {
                unexplained.append("\(trial) ran \(runs.count)×, \(killed) interrupted by a worker kill: "
                    + runs.map { "line \($0.line + 1) '\($0.text)'\($0.ended ? "" : " (no end)")" }.joined(separator: ", "))
            }
        }
        f.unexplained = f.duplicates - f.explained
        let v = unexplained.isEmpty ? [] : [ChaosViolation("duplicates-explained-by-worker-kills",
                                                           "\(f.unexplained) unexplained: \(sample(unexplained))")]
        return (f, v)
    }

    private static func attempts(_ e: ChaosEvidence) -> [ChaosViolation] {
        let byTrial = Dictionary(grouping: e.leases, by: \.trialID)
        let kills = Dictionary(grouping: e.workerKills, by: \.workerID)
        var problems: [String] = []
        for r in e.records {
            let charged = (byTrial[r.id] ?? []).filter(\.charged)
            if r.attempts != charged.count || r.attempts < 1 || r.attempts > e.maxAttempts {
                problems.append("\(r.id) has \(r.attempts) attempt(s) (max \(e.maxAttempts)) but \(charged.count) started lease(s)")
            }
            for lease in charged where lease.outcome != "done" {
                let explained = (kills[lease.owner.worker] ?? []).contains { k in
                    k.at >= lease.grantedAt && k.at <= (lease.endedAt ?? .distantPast)
                }
                if !explained { problems.append("attempt spent without a kill of its worker: \(describe(lease))") }
            }
        }
        return problems.isEmpty ? [] : [ChaosViolation("attempts-consistent", "\(problems.count) problem(s): \(sample(problems))")]
    }

    static func describe(_ l: LeaseRecord) -> String {
        "lease \(l.id) of \(l.trialID) to \(l.owner) (attempt \(l.attempt), started \(l.startedAt == nil ? "no" : "yes"), "
            + "ended \(l.outcome ?? "not")"
            + ")"
    }

    /// The first few items, and how many more.
    static func sample(_ items: [String], _ n: Int = 5) -> String {
        items.prefix(n).joined(separator: "; ") + (items.count > n ? "; … \(items.count - n) more" : "")
    }
}
