import Foundation
import Logging
import Sweeps
import Trials

/// The coordinator side of a sweep run: takes the results directory's lock, opens (creates or resumes)
/// `RESULTS/<name>/` from a spec and runs the coordinator until the sweep ends; `fsweep coordinator` and
/// `fsweep run` are thin over it.
public struct SweepSession: Sendable {
    public let store: SweepStore
    public let directory: String
    public let settings: CoordinatorSettings
    public let specPath: String
    /// Command-line overrides (`train.epochs=1`), applied again when `--keep-alive` reloads the file.
    public let overrides: [String]
    /// Probes the spec adds to a stored sweep that keeps its models: they run on the stored checkpoints once
    /// the trials are done (`SweepStore.resumeWithAddedProbes`) instead of the grid being trained again.
    public let probesToAdd: [String]

    /// Loads the spec, locks its results directory (a second coordinator fails here, before anything
    /// changes), creates or resumes its store; `retryFailed` re-queues failed trials; `forceNewTrials`
    /// accepts a spec whose fixed settings changed (old and new trials then coexist); `limits` from the command
    /// line override the spec's `runner.stall_timeout` / `runner.time_limit`.
    public init(specPath: String, overrides: [String] = [], resultsRoot: String, retryFailed: Bool, forceNewTrials: Bool = false,
                settings: CoordinatorSettings, limits: TrialLimits = TrialLimits(), logger: Logger) throws {
        let spec = try SweepSpec.load(path: specPath, overrides: overrides)
        self.overrides = overrides
        let dir = URL(fileURLWithPath: resultsRoot).appendingPathComponent(spec.name)
        let lock = try DirectoryLock(directory: dir)
        if !forceNewTrials, let resumed = try SweepStore.resumeWithAddedProbes(in: lock, spec: spec) {
            store = resumed.store
            probesToAdd = resumed.probes
            let added = resumed.probes.joined(separator: ", ")
            logger.notice("\(specPath) adds probe(s) \(added) to the stored sweep: the trials keep their settings, and the added probes run on the stored checkpoints (no retraining)")
        } else {
            store = try SweepStore.create(in: lock, spec: spec, forceNewTrials: forceNewTrials)
            probesToAdd = []
        }
        directory = dir.path
        self.specPath = specPath
        var s = settings
        s.stallTimeout = limits.stallTimeout ?? spec.runner.stallTimeout ?? s.stallTimeout
        s.timeLimit = limits.timeLimit ?? spec.runner.timeLimit ?? s.timeLimit
        self.settings = s
        if retryFailed {
            let n = try store.retryFailed()
            logger.notice("re-queued \(n) failed trial(s)")
        }
        let c = try store.counts()
        logger.notice("sweep \(spec.name) in \(dir.path): \(c.total) trials (\(store.addedTrials) new), \(c.done) done, \(c.failed) failed, \(c.pending + c.leased) to run")
    }

    /// Runs a coordinator bound to `endpoint` with SIGINT/SIGTERM as graceful shutdown; returns the exit code.
    /// `finishedMarker`: a file removed at start and written once every trial is done or failed, so workers
    /// started after the end (Slurm array tasks) exit at once (`fsweep worker --finished-marker`).
    public func serve(endpoint: String, security: CoordinatorSecurity, finishedMarker: String? = nil, logger: Logger) throws -> Int32 {
        try SweepSession.clearMarker(finishedMarker)
        let server = CoordinatorServer(endpoint: endpoint, settings: settings, store: store, security: security, logger: logger)
        _ = try server.start()
        let trap = SignalTrap { sig in
            logger.notice("received signal \(sig); shutting down gracefully")
            server.requestShutdown()
        }
        let stop = Locked(false)
        if settings.keepAlive { watchSpec(until: stop, logger: logger) }
        let code = server.wait()
        stop.withLock { $0 = true }
        try markFinishedIfDone(finishedMarker, logger: logger)
        withExtendedLifetime(trap) {}
        return code
    }

    /// With `--keep-alive`: when the spec file changes, add its new grid points to the store (the running
    /// coordinator leases them on its next pass). Invalid edits are logged and ignored.
    private func watchSpec(until stop: Locked<Bool>, logger: Logger) {
        let path = specPath, store = self.store, overrides = self.overrides
        @Sendable func modified() -> Date? { (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date }
        let thread = Thread {
            var last = modified()
            while !stop.current {
                Thread.sleep(forTimeInterval: 1)
                let now = modified()
                guard now != last else { continue }
                last = now
                do {
                    let spec = try SweepSpec.load(path: path, overrides: overrides)
                    let added = try store.add(spec: spec)
                    logger.notice("spec changed: \(added) new trial(s) added")
                } catch {
                    logger.error("spec changed but could not be applied: \(error)")
                }
            }
        }
        thread.name = "fsweep.spec-watch"
        thread.start()
    }
}
