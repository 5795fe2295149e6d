import Foundation
import Sweeps
import Trials

/// One run of the fault benchmark: the fault phase, the fault-free finish, then the audit. Used from one thread.
final class ChaosRun {
    private let settings: ChaosSettings
    private let progress: (String) -> Void
    private let fleet: ChaosFleet
    private let hostile: HostilePeer
    private let storeDirectory: URL
    private var rng: SeededRNG
    private var workerKills: [WorkerKill] = []
    private var coordinatorKills = 0
    private var spared = 0
    private var problems: [String] = []
    private var sweepOver = false
    /// A process of the fleet.
    private enum Role: Hashable { case coordinator, worker(Int) }
    /// When each dead process is due to be started again.
    private var restarts: [Role: Date] = [:]
    private let began = Date()
    private var lastProgress = Date()

    init(settings: ChaosSettings, progress: @escaping (String) -> Void) throws {
        self.settings = settings
        self.progress = progress
        let fm = FileManager.default
        try? fm.removeItem(at: settings.scratch)
        try fm.createDirectory(at: settings.scratch, withIntermediateDirectories: true)
        let specPath = settings.scratch.appendingPathComponent("chaos.yaml").path
        try SweepSpec.tinyYAML(name: "chaos", trials: settings.trialCount, maxAttempts: settings.maxAttempts)
            .write(toFile: specPath, atomically: true, encoding: .utf8)
        let endpoint = "tcp://127.0.0.1:\(try ChaosBenchmark.freePort())"
        fleet = ChaosFleet(settings: settings, endpoint: endpoint, specPath: specPath)
        storeDirectory = URL(fileURLWithPath: fleet.resultsRoot).appendingPathComponent("chaos")
        rng = SeededRNG(seed: SeededRNG.derive(settings.seed, "chaos.faults"))
        hostile = HostilePeer(endpoint: endpoint, storeDirectory: storeDirectory, meanInterval: settings.hostileInterval,
                              floodSize: settings.floodSize, seed: SeededRNG.derive(settings.seed, "chaos.hostile"))
    }

    func execute() throws -> ChaosReport {
        defer {
            hostile.stop()
            fleet.killAll()
        }
        try fleet.startCoordinator()
        try awaitListening()
        for i in 0..<settings.workers { try fleet.startWorker(i) }
        hostile.start()
        let faultStart = Date()
        try faultPhase(until: faultStart.addingTimeInterval(settings.seconds))
        let tally = hostile.stop()
        let faultEnd = Date()
        try finishPhase()
        let finished = Date()
        var stopped = 0
        if sweepOver { stopped = awaitWorkersLeaving() }
        fleet.killAll()
        var report = try audit(tally)
        report.faultSeconds = faultEnd.timeIntervalSince(faultStart)
        report.finishSeconds = finished.timeIntervalSince(faultEnd)
        report.wallSeconds = finished.timeIntervalSince(began)
        report.workersStoppedAfterSweep = stopped
        if report.passed { try? FileManager.default.removeItem(at: settings.scratch) }
        return report
    }

    /// Waits (bounded) for the first coordinator to create the store and listen.
    private func awaitListening() throws {
        let deadline = Date().addingTimeInterval(120)
        let log = fleet.coordinatorLog(0)
        while Date() < deadline {
            if ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("listening") { return }
            if let exit = fleet.coordinatorEnded() {
                let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
                throw ClusterError(code: "chaos", message: "the coordinator ended before listening (\(exit.description)): \(text.suffix(2000))")
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw ClusterError(code: "chaos", message: "the coordinator did not listen within 120 s; see \(log)")
    }

    // MARK: Phases

    private func faultPhase(until end: Date) throws {
        let start = Date()
        // The first kill of each kind is placed early so even a short run is not vacuous; later gaps are random.
        var nextWorkerKill = start.addingTimeInterval(settings.seconds * Double.random(in: 0.1...0.3, using: &rng))
        var nextCoordinatorKill = start.addingTimeInterval(settings.seconds * Double.random(in: 0.25...0.5, using: &rng))
        while Date() < end && !sweepOver {
            try supervise(faults: true)
            let now = Date()
            if now >= nextWorkerKill {
                killSomeWorker(now: now)
                nextWorkerKill = now.addingTimeInterval(ChaosSchedule.exponential(mean: settings.workerKillInterval, &rng))
            }
            if now >= nextCoordinatorKill && fleet.coordinator != nil {
                fleet.killCoordinator()
                coordinatorKills += 1
                restarts[.coordinator] = now.addingTimeInterval(Double.random(in: 0...2, using: &rng))
                nextCoordinatorKill = now.addingTimeInterval(ChaosSchedule.exponential(mean: settings.coordinatorKillInterval, &rng))
            }
            reportProgress(phase: "faults", end: end)
            Thread.sleep(forTimeInterval: 0.05)  // the schedule's tick
        }
    }

    private func finishPhase() throws {
        for key in restarts.keys { restarts[key] = .distantPast }
        let deadline = Date().addingTimeInterval(settings.finishTimeout)
        while !sweepOver {
            guard Date() < deadline else {
                problems.append("the sweep did not finish within \(Int(settings.finishTimeout)) s after the faults stopped")
                return
            }
            try supervise(faults: false)
            reportProgress(phase: "finishing", end: nil)
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    /// After the coordinator finished: workers told the sweep is over leave by themselves; the rest are stopped.
    private func awaitWorkersLeaving() -> Int {
        let deadline = Date().addingTimeInterval(15)
        while fleet.workers.contains(where: { $0 != nil }) && Date() < deadline {
            for (i, exit) in fleet.workersEnded() where exit.status != 0 {
                problems.append("\(ChaosFleet.workerID(i)) ended with \(exit.description) after the sweep")
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return fleet.stopWorkers(within: 10)
    }

    // MARK: Processes

    /// Reaps processes that ended by themselves, starts those due, samples the coordinator's memory.
    private func supervise(faults: Bool) throws {
        if let exit = fleet.coordinatorEnded() {
            if exit.status == 0 {
                sweepOver = true
                return
            }
            problems.append("the coordinator ended on its own with \(exit.description) (\(faults ? "during" : "after") the faults); "
                + "see \(fleet.coordinatorLog(fleet.coordinatorStarts - 1))")
            restarts[.coordinator] = Date()
        }
        for (i, exit) in fleet.workersEnded() where exit.status != 0 {
            problems.append("\(ChaosFleet.workerID(i)) ended on its own with \(exit.description)")
            restarts[.worker(i)] = Date()
        }
        let now = Date()
        for (key, due) in restarts where due <= now {
            restarts[key] = nil
            switch key {
            case .coordinator: try fleet.startCoordinator()
            case .worker(let i): try fleet.startWorker(i)
            }
        }
        fleet.sampleCoordinator()
    }

    /// Kills a random live worker, unless its trial is on its last attempt (then the kill is spared).
    private func killSomeWorker(now: Date) {
        let alive = fleet.workers.indices.filter { fleet.workers[$0] != nil }
        guard let victim = alive.randomElement(using: &rng) else { return }
        guard hasAttemptToSpare(ChaosFleet.workerID(victim)) else {
            spared += 1
            return
        }
        if let kill = fleet.killWorker(victim, storeDirectory: storeDirectory) {
            workerKills.append(kill)
            restarts[.worker(victim)] = now.addingTimeInterval(Double.random(in: 0...1, using: &rng))
        }
    }

    /// Whether killing `workerID` now leaves its trial (if any) an attempt to run again.
    private func hasAttemptToSpare(_ workerID: String) -> Bool {
        guard let store = try? SweepStore.open(directory: storeDirectory),
              let leases = try? store.recordedLeases() else { return false }
        guard let lease = leases.first(where: { $0.owner.worker == workerID && $0.owner.identity == "zmq:\(workerID)" }) else { return true }
        guard let trial = (try? store.status())?.trials.first(where: { $0.id == lease.trialID }) else { return false }
        return trial.attempts + (lease.started ? 0 : 1) < settings.maxAttempts
    }

    private func reportProgress(phase: String, end: Date?) {
        guard Date().timeIntervalSince(lastProgress) >= 10 else { return }
        lastProgress = Date()
        let counts = (try? SweepStore.open(directory: storeDirectory).counts()) ?? SweepStore.Counts()
        let left = end.map { String(format: ", %.0f s of faults left", $0.timeIntervalSinceNow) } ?? ""
        progress(String(format: "chaos %@ %.0f s%@: %d/%d done, %d worker kills, %d coordinator kills",
                        phase, Date().timeIntervalSince(began), left, counts.done, settings.trialCount, workerKills.count, coordinatorKills))
    }

    // MARK: Audit

    private func audit(_ tally: HostileTally) throws -> ChaosReport {
        let store = try SweepStore.open(directory: storeDirectory)
        let evidence = ChaosEvidence(
            maxAttempts: try store.maxAttempts(), records: try store.records(), results: try store.resultRows(),
            leases: try store.leaseHistory(), executions: ChaosRunnerLog.executions(atPath: fleet.runnerLog),
            workerKills: workerKills, workerIDs: Set((0..<settings.workers).map(ChaosFleet.workerID)),
            hostile: tally, processProblems: problems)
        let (f, violations) = ChaosAudit.check(evidence)
        let events = try store.eventCounts()
        let peaks = fleet.coordinatorPeaks.map { Double($0) / 1024 }
        return ChaosReport(
            seed: settings.seed, workers: settings.workers, trials: evidence.records.count, maxAttempts: evidence.maxAttempts,
            faultSeconds: 0, finishSeconds: 0, wallSeconds: 0, workerKills: workerKills.count, coordinatorKills: coordinatorKills,
            workerKillsSpared: spared, executions: f.executions, duplicateExecutions: f.duplicates,
            duplicatesExplainedByWorkerKills: f.explained, duplicatesUnexplained: f.unexplained,
            attemptsSpentByKills: f.attemptsSpentByKills, leasesReadopted: events["adopted"] ?? 0,
            resultsRefusedByStore: events["refused-result"] ?? 0, hostile: tally, coordinatorPeakRSSMiB: peaks,
            peakCoordinatorRSSMiB: peaks.max() ?? 0, workersStoppedAfterSweep: 0, violations: violations,
            scratch: settings.scratch.path)
    }
}
