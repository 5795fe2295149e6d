import ArgumentParser
import Cluster
import Foundation
import Sweeps
import Logging
import Trials

/// Logging options shared by the cluster subcommands.
struct LogOptions: ParsableArguments {
    @Option(help: "Log level: trace, debug, info, notice, warning, error.")
    var logLevel: String = "info"

    func makeLogger(_ label: String) -> Logger {
        LoggingBootstrap.once()
        var logger = Logger(label: label)
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        return logger
    }
}

/// Heartbeat timing shared by coordinator and worker.
struct HeartbeatOptions: ParsableArguments {
    @Option(help: "Time between heartbeats: 1s, 2s or seconds (0.5).", transform: DurationFlag.seconds)
    var heartbeat: Double = 1
    @Option(help: "Missed heartbeats before the peer counts as gone.")
    var liveness: Int = 3

    func validate() throws {
        guard heartbeat > 0, heartbeat <= 60 else { throw ValidationError("--heartbeat must be in (0, 60] seconds") }
        guard liveness >= 1 else { throw ValidationError("--liveness must be at least 1") }
    }
}

/// Per-trial limits on the command line; each overrides the sweep file's `runner:` value of the same name.
struct TrialLimitOptions: ParsableArguments {
    @Option(help: "Time a trial may go without progress (epochs, steps, runner lines) before it is cancelled and re-queued: 90s, 30m, 2h, 1d or seconds (overrides runner.stall_timeout; default 15m).")
    var stallTimeout: String?
    @Option(help: "Wall-clock time one execution of a trial may take: 90s, 30m, 2h, 1d or seconds (overrides runner.time_limit; default none).")
    var timeLimit: String?

    func validate() throws {
        for (flag, text) in [("--stall-timeout", stallTimeout), ("--time-limit", timeLimit)] {
            if let text, SweepSpec.duration(text: text) == nil {
                throw ValidationError("\(flag) expects a duration like 90s, 30m, 2h, 1d or a number of seconds, got '\(text)'")
            }
        }
    }

    var limits: TrialLimits {
        TrialLimits(stallTimeout: stallTimeout.flatMap(SweepSpec.duration(text:)), timeLimit: timeLimit.flatMap(SweepSpec.duration(text:)))
    }
}

/// Bootstraps swift-log once per process (stderr).
enum LoggingBootstrap {
    private static let done = Locked(false)
    static func once() {
        let first = done.withLock { d -> Bool in defer { d = true }; return !d }
        if first { LoggingSystem.bootstrap { LineLogHandler(label: $0) } }
    }
}

/// stderr log lines that first clear the terminal line, so they do not collide with `fsweep run`'s
/// live progress line (which is redrawn after them).
struct LineLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    private static let tty = isatty(STDERR_FILENO) == 1

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String,
             file: String, function: String, line: UInt) {
        let stamp = ISO8601DateFormatter().string(from: Date())
        let text = "\(LineLogHandler.tty ? "\r\u{1B}[K" : "")\(stamp) \(level) \(label): \(message)\n"
        FileHandle.standardError.write(Data(text.utf8))
    }
}
