import Foundation
import Trials
import Sweeps

/// The fault benchmark's processes: one `fsweep coordinator` and `settings.workers` `fsweep worker`s over
/// loopback, each restarted with its original command line after a kill, so a restarted coordinator resumes
/// the same store and a restarted worker keeps its id and outbox. Used from one thread.
final class ChaosFleet {
    let settings: ChaosSettings
    let endpoint: String
    let specPath: String
    let resultsRoot: String
    let runnerLog: String
    let logs: URL
    private(set) var coordinator: ChaosChild?
    private(set) var workers: [ChaosChild?]
    /// Peak RSS (KiB) of every coordinator incarnation that ended, and the running one's high-water mark.
    private(set) var coordinatorPeaks: [Int] = []
    private var livePeak = 0
    private var started: [String: Int] = [:]

    init(settings: ChaosSettings, endpoint: String, specPath: String) {
        self.settings = settings
        self.endpoint = endpoint
        self.specPath = specPath
        resultsRoot = settings.scratch.appendingPathComponent("results").path
        runnerLog = settings.scratch.appendingPathComponent("runner.log").path
        logs = settings.scratch.appendingPathComponent("logs")
        workers = Array(repeating: nil, count: settings.workers)
    }

    static func workerID(_ i: Int) -> String { "chaos-w\(i)" }

    private var timing: [String] { ["--heartbeat", "\(settings.heartbeat)", "--liveness", "\(settings.liveness)"] }

    private func spawn(_ label: String, _ arguments: [String]) throws -> ChaosChild {
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        let n = started[label, default: 0]
        started[label] = n + 1
        return try ChaosChild(executable: settings.executable, arguments: arguments,
                              logFile: logs.appendingPathComponent("\(label)-\(n).log").path, label: label)
    }

    /// Coordinator incarnations started so far.
    var coordinatorStarts: Int { started["coordinator", default: 0] }

    /// The log file of the coordinator's `n`th incarnation (from 0).
    func coordinatorLog(_ n: Int) -> String { logs.appendingPathComponent("coordinator-\(n).log").path }

    func startCoordinator() throws {
        coordinator = try spawn("coordinator", ["coordinator", specPath, "--bind", endpoint, "--results", resultsRoot] + timing)
        livePeak = 0
    }

    func startWorker(_ i: Int) throws {
        let id = Self.workerID(i)
        let outbox = settings.scratch.appendingPathComponent("outbox/\(id)").path
        let command = ChaosRunnerLog.command(log: runnerLog, sleep: settings.trialSleep)
        workers[i] = try spawn(id, ["worker", "--connect", endpoint, "--id", id, "--outbox", outbox,
                                    "--runner-command", command, "--threads", "1"] + timing)
    }

    /// Reads the running coordinator's VmHWM (its peak so far).
    func sampleCoordinator() {
        if let kib = coordinator?.highWaterKiB { livePeak = max(livePeak, kib) }
    }

    /// Records the peak of a coordinator incarnation that ended.
    private func closeCoordinator(_ exit: ChaosChild.Exit) {
        coordinatorPeaks.append(max(livePeak, exit.maxRSSKiB))
        livePeak = 0
    }

    /// `kill -9` of the coordinator.
    func killCoordinator() {
        guard let c = coordinator, c.exit == nil else { return }
        sampleCoordinator()
        closeCoordinator(c.kill9())
        coordinator = nil
    }

    /// The coordinator's exit if it ended by itself (it is then forgotten, its peak recorded).
    func coordinatorEnded() -> ChaosChild.Exit? {
        guard let c = coordinator, let exit = c.poll() else { return nil }
        closeCoordinator(exit)
        coordinator = nil
        return exit
    }

    /// Workers that ended by themselves since the last call, with how they ended (they are then forgotten).
    func workersEnded() -> [(index: Int, exit: ChaosChild.Exit)] {
        var out: [(Int, ChaosChild.Exit)] = []
        for (i, w) in workers.enumerated() {
            if let w, let exit = w.poll() {
                out.append((i, exit))
                workers[i] = nil
            }
        }
        return out
    }

    /// `kill -9` of worker `i` and of its runners' process groups (as when its machine dies). The worker is
    /// stopped first so it cannot start a runner between the listing and the kill. What the kill interrupted
    /// is read from the runner log once everything is dead.
    func killWorker(_ i: Int, storeDirectory: URL) -> WorkerKill? {
        guard let w = workers[i], w.exit == nil else { return nil }
        kill(w.pid, SIGSTOP)
        let ownGroup = getpgrp()
        let runners = ProcTable.children(of: w.pid).filter { $0.group == $0.pid && $0.group != ownGroup && $0.group > 1 }
        let at = Date()
        w.kill9()
        for r in runners { kill(-r.group, SIGKILL) }
        workers[i] = nil
        let mine = ChaosRunnerLog.executions(atPath: runnerLog).filter { $0.workerPID == w.pid }
        var interrupted = mine.filter { !$0.ended }.map { WorkerKill.Interrupted(trialID: $0.trialID, runner: $0.pid) }
        if let last = mine.last, last.ended,
           (try? SweepStore.open(directory: storeDirectory).state(of: last.trialID)) != .done {
            interrupted.append(WorkerKill.Interrupted(trialID: last.trialID, runner: last.pid))
        }
        return WorkerKill(at: at, workerID: Self.workerID(i), pid: w.pid, runnerGroups: runners.map(\.group), interrupted: interrupted)
    }

    /// SIGTERM to the workers still running (a worker that never heard the sweep ended); returns how many.
    func stopWorkers(within seconds: Double) -> Int {
        let running = workers.compactMap { $0 }.filter { $0.poll() == nil }
        running.forEach { kill($0.pid, SIGTERM) }
        let deadline = Date().addingTimeInterval(seconds)
        for w in running {
            while w.poll() == nil && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            if w.poll() == nil { w.kill9() }
        }
        workers = workers.map { _ in nil }
        return running.count
    }

    /// Kills whatever still runs (error paths).
    func killAll() {
        for (i, _) in workers.enumerated() { _ = killWorker(i, storeDirectory: URL(fileURLWithPath: "/nonexistent")) }
        killCoordinator()
    }
}
