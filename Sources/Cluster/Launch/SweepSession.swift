import Foundation
import Logging
import Sweeps

/// The coordinator side of a sweep run: opens (creates or resumes) `RESULTS/<name>/` from a spec and
/// runs the coordinator until the sweep ends; `fsweep coordinator` and `fsweep run` are thin over it.
public struct SweepSession: Sendable {
    public let store: SweepStore
    public let directory: String
    public let settings: CoordinatorSettings
    public let specPath: String

    /// Loads the spec, creates or resumes its store; `retryFailed` re-queues failed trials;
    /// `forceNewTrials` accepts a spec whose fixed settings changed (old and new trials then coexist).
    public init(specPath: String, resultsRoot: String, retryFailed: Bool, forceNewTrials: Bool = false,
                settings: CoordinatorSettings, logger: Logger) throws {
        let spec = try SweepSpec.load(path: specPath)
        let dir = URL(fileURLWithPath: resultsRoot).appendingPathComponent(spec.name)
        store = try SweepStore.create(directory: dir, spec: spec, forceNewTrials: forceNewTrials)
        directory = dir.path
        self.specPath = specPath
        var s = settings
        if s.wallClockLimit == nil { s.wallClockLimit = spec.runner.trialTimeout }
        self.settings = s
        if retryFailed {
            let n = try store.retryFailed()
            logger.notice("re-queued \(n) failed trial(s)")
        }
        let c = try store.counts()
        logger.notice("sweep \(spec.name) in \(dir.path): \(c.total) trials (\(store.addedTrials) new), \(c.done) done, \(c.failed) failed, \(c.pending + c.leased) to run")
    }

    /// Runs a coordinator bound to `endpoint` with SIGINT/SIGTERM as graceful shutdown; returns the exit code.
    public func serve(endpoint: String, security: CoordinatorSecurity, logger: Logger) throws -> Int32 {
        let server = CoordinatorServer(endpoint: endpoint, settings: settings, store: SweepStoreAdapter(store),
                                       security: security, logger: logger)
        _ = try server.start()
        let trap = SignalTrap { sig in
            logger.notice("received signal \(sig); shutting down gracefully")
            server.requestShutdown()
        }
        let stop = Locked(false)
        if settings.keepAlive { watchSpec(until: stop, logger: logger) }
        let code = server.wait()
        stop.withLock { $0 = true }
        withExtendedLifetime(trap) {}
        return code
    }

    /// With `--keep-alive`: when the spec file changes, add its new grid points to the store (the running
    /// coordinator leases them on its next pass). Invalid edits are logged and ignored.
    private func watchSpec(until stop: Locked<Bool>, logger: Logger) {
        let path = specPath, dir = URL(fileURLWithPath: directory)
        @Sendable func modified() -> Date? { (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date }
        let thread = Thread {
            var last = modified()
            while !stop.current {
                Thread.sleep(forTimeInterval: 1)
                let now = modified()
                guard now != last else { continue }
                last = now
                do {
                    let grown = try SweepStore.create(directory: dir, spec: try SweepSpec.load(path: path))
                    logger.notice("spec changed: \(grown.addedTrials) new trial(s) added")
                } catch {
                    logger.error("spec changed but could not be applied: \(error)")
                }
            }
        }
        thread.name = "fsweep.spec-watch"
        thread.start()
    }

    /// `fsweep run`: a loopback coordinator plus `workers` local worker processes, with a live progress
    /// line on stderr. Returns 0 when every trial is done, 2 when some failed, 130 when interrupted.
    public func runLocally(workers: Int, workerArguments: [String], progress: Bool, logger: Logger) throws -> Int32 {
        let server = CoordinatorServer(endpoint: "tcp://127.0.0.1:*", settings: settings, store: SweepStoreAdapter(store),
                                       logger: logger)
        // Leases left by an earlier local run belong to workers that died with it: take them back now
        // instead of waiting for their deadlines.
        for trial in try store.status().trials where trial.state == .leased {
            try store.requeue(trialID: trial.id, reason: "previous local run ended")
            logger.notice("re-queued \(trial.id) left running by a previous run")
        }
        let endpoint = try server.start()
        let start = try store.counts()
        let line = ProgressLine(startedAt: Date(), doneAtStart: start.done)
        let toRun = start.pending + start.leased
        let local = try LocalWorkers(count: toRun == 0 ? 0 : min(workers, toRun), endpoint: endpoint,
                                     outboxRoot: (directory as NSString).appendingPathComponent("outbox"),
                                     extraArguments: workerArguments, logger: logger)
        let trap = SignalTrap { sig in
            logger.notice("received signal \(sig); finishing running trials (Ctrl-C again is not needed)")
            server.requestShutdown()
        }
        let done = Locked(false)
        // On a terminal the line is redrawn in place; in a log (CI, nohup) a full line is written only
        // when the counts change, so logs stay readable.
        let terminal = isatty(STDERR_FILENO) == 1
        let ticker = Thread {
            var last = "", lastCounts = ""
            while !done.current {
                let snap = server.snapshot
                if progress, let c = snap.counts {
                    let text = line.render(c, workers: local.alive, now: Date())
                    let counts = "\(c.done) \(c.leased) \(c.pending) \(c.failed)"
                    if terminal, text != last {
                        FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8))
                        last = text
                    } else if !terminal, counts != lastCounts {
                        FileHandle.standardError.write(Data("\(text)\n".utf8))
                        lastCounts = counts
                    }
                }
                Thread.sleep(forTimeInterval: 0.5)
            }
        }
        ticker.start()
        let code = server.wait()
        done.withLock { $0 = true }
        local.finish(within: 5)
        withExtendedLifetime(trap) {}
        let c = try SweepStoreAdapter(store).counts()
        if progress { FileHandle.standardError.write(Data("\(terminal ? "\r\u{1B}[K" : "")\(line.render(c, workers: 0, now: Date()))\n".utf8)) }
        if c.failed > 0 {
            let failed = try store.status().trials.filter { $0.state == .failed }
            var summary = "\(c.failed) trial(s) failed:\n"
            for t in failed.prefix(20) { summary += "  \(t.id): \(t.error ?? "unknown error")\n" }
            summary += "re-run with --retry-failed to try them again\n"
            FileHandle.standardError.write(Data(summary.utf8))
        }
        return code
    }
}
