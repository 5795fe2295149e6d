import Foundation
import Logging
import Sweeps
import Trials

extension SweepSession {
    /// `fsweep run`: a loopback coordinator plus `workers` supervised local worker processes, with a live
    /// progress line on stderr. Returns 0 when every trial is done, 2 when some failed, 130 when interrupted,
    /// 3 when local workers kept dying.
    /// `gpus`: device ids handed out to the workers in turn (`--gpu`), so each runs on its own GPU.
    public func runLocally(workers: Int, workerArguments: [String], gpus: [String] = [], progress: Bool, logger: Logger) throws -> Int32 {
        let server = CoordinatorServer(endpoint: "tcp://127.0.0.1:*", settings: settings, store: store, logger: logger)
        let endpoint = try server.start()
        let start = try store.counts()
        let toRun = start.pending + start.leased
        let local = try LocalWorkers(count: toRun == 0 ? 0 : min(workers, toRun), endpoint: endpoint,
                                     outboxRoot: (directory as NSString).appendingPathComponent("outbox"),
                                     extraArguments: workerArguments, gpus: gpus, logger: logger)
        let trap = SignalTrap { sig in
            logger.notice("received signal \(sig); finishing running trials (Ctrl-C again is not needed)")
            server.requestShutdown()
        }
        let gaveUp = Locked<String?>(nil)
        let done = Locked(false)
        let line = ProgressLine(startedAt: Date(), doneAtStart: start.done)
        let ticker = Thread {
            var printer = ProgressPrinter(line: line, enabled: progress)
            while !done.current {
                if gaveUp.current == nil, let reason = local.superviseOnce() {
                    gaveUp.withLock { $0 = reason }
                    logger.error("\(reason)")
                    server.requestShutdown()
                }
                if let c = server.snapshot.counts { printer.update(c, workers: local.alive) }
                Thread.sleep(forTimeInterval: 0.25)
            }
        }
        ticker.start()
        let code = server.wait()
        done.withLock { $0 = true }
        local.finish(within: code == 0 || code == 2 ? 5 : 0)
        withExtendedLifetime(trap) {}
        let c = try store.counts()
        if progress { ProgressPrinter.finalLine(line.render(c, workers: 0, now: Date())) }
        try reportFailures(c)
        if let reason = gaveUp.current {
            FileHandle.standardError.write(Data("fsweep run: \(reason); finished trials are kept, run the same command again to resume\n".utf8))
            return 3
        }
        return code
    }

    private func reportFailures(_ c: SweepStore.Counts) throws {
        guard c.failed > 0 else { return }
        let failed = try store.status().trials.filter { $0.state == .failed }
        var summary = "\(c.failed) trial(s) failed:\n"
        for t in failed.prefix(20) { summary += "  \(t.id): \(t.error ?? "unknown error")\n" }
        summary += "re-run with --retry-failed to try them again\n"
        FileHandle.standardError.write(Data(summary.utf8))
    }
}

/// The live progress line: redrawn in place on a terminal; in a log (CI, nohup) a full line only when the
/// counts change, so logs stay readable.
struct ProgressPrinter {
    let line: ProgressLine
    let enabled: Bool
    private let terminal = isatty(STDERR_FILENO) == 1
    private var last = "", lastCounts = ""

    init(line: ProgressLine, enabled: Bool) {
        self.line = line
        self.enabled = enabled
    }

    mutating func update(_ c: SweepStore.Counts, workers: Int) {
        guard enabled else { return }
        let text = line.render(c, workers: workers, now: Date())
        let counts = "\(c.done) \(c.leased) \(c.pending) \(c.failed)"
        if terminal, text != last {
            FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8))
            last = text
        } else if !terminal, counts != lastCounts {
            FileHandle.standardError.write(Data("\(text)\n".utf8))
            lastCounts = counts
        }
    }

    static func finalLine(_ text: String) {
        let terminal = isatty(STDERR_FILENO) == 1
        FileHandle.standardError.write(Data("\(terminal ? "\r\u{1B}[K" : "")\(text)\n".utf8))
    }
}
