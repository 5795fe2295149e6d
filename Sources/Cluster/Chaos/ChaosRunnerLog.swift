import Foundation
import Trials

/// The fault benchmark's trial runner and its log. The runner is a shell command (`fsweep worker
/// --runner-command`) that appends `start TRIAL PID WORKER-PID` when it begins, sleeps a short time that
/// varies with its pid, and appends `end TRIAL PID` before printing its result, whose metrics carry its pid
/// (`runner_pid`) so every stored result can be traced to the execution that produced it.
public enum ChaosRunnerLog {
    /// One execution of a trial, as the runner logged it.
    public struct Execution: Sendable, Equatable {
        public var trialID: String
        /// The runner shell's pid (also its process group).
        public var pid: Int32
        /// The `fsweep worker` process that started it.
        public var workerPID: Int32
        public var ended: Bool
        /// Position of the start line in the log (0-based).
        public var line: Int

        public init(trialID: String, pid: Int32, workerPID: Int32, ended: Bool, line: Int) {
            self.trialID = trialID
            self.pid = pid
            self.workerPID = workerPID
            self.ended = ended
            self.line = line
        }

        /// The start line as logged.
        public var text: String { "start \(trialID) \(pid) \(workerPID)" }
    }

    /// The runner command for `fsweep worker --runner-command`, logging to `log`; each execution sleeps
    /// between `sleep.lowerBound` and `sleep.upperBound` seconds (millisecond steps chosen by its pid).
    public static func command(log: String, sleep: ClosedRange<Double>) -> String {
        let low = Int(sleep.lowerBound * 1000), span = max(1, Int((sleep.upperBound - sleep.lowerBound) * 1000))
        return "echo \"start $FSWEEP_TRIAL_ID $$ $PPID\" >> '\(log)'; cat >/dev/null; "
            + "ms=$(( ($$ * 7919) % \(span) + \(low) )); sleep $((ms / 1000)).$(printf %03d $((ms % 1000))); "
            + "echo '{\"progress\":{\"epoch\":1,\"epochs\":1,\"metrics\":{\"loss\":0.5}}}'; "
            + "echo \"end $FSWEEP_TRIAL_ID $$\" >> '\(log)'; "
            + "echo \"{\\\"metrics\\\":{\\\"test_accuracy\\\":0.5,\\\"runner_pid\\\":$$}}\""
    }

    /// The executions recorded in `text` (the log's contents), in start order.
    public static func executions(_ text: String) -> [Execution] {
        var out: [Execution] = []
        var open: [Int32: Int] = [:]  // runner pid → index in `out`
        for (n, line) in text.split(separator: "\n").enumerated() {
            let f = line.split(separator: " ")
            if f.count == 4, f[0] == "start", let pid = Int32(f[2]), let worker = Int32(f[3]) {
                open[pid] = out.count
                out.append(Execution(trialID: String(f[1]), pid: pid, workerPID: worker, ended: false, line: n))
            } else if f.count == 3, f[0] == "end", let pid = Int32(f[2]), let i = open[pid], out[i].trialID == f[1] {
                out[i].ended = true
                open[pid] = nil
            }
        }
        return out
    }

    /// The executions in the log file at `path` (none when it does not exist yet).
    public static func executions(atPath path: String) -> [Execution] {
        executions((try? String(contentsOfFile: path, encoding: .utf8)) ?? "")
    }
}
