import ArgumentParser
import Cluster
import Foundation
import Reports
import Sweeps

extension FSweep {
    /// `fsweep status TARGET [--json] [--watch]`: progress of a sweep from its store or a live coordinator.
    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a sweep's progress: counts by state, leased trials and what they do, failures, ETA.",
            discussion: """
                TARGET is a results directory (results/<name>), the sweep file (sweeps/<name>.yaml, looked up under \
                --results), or a running coordinator's endpoint (tcp://HOST:PORT). States: pending, leased (a worker \
                runs it: starting, training epoch k/n, probing), done, failed.
                """)

        @Argument(help: "The sweep's results directory, its sweep file, or a live coordinator endpoint tcp://HOST:PORT.")
        var target: String

        @Option(help: "Results root a sweep file's results are looked up in (RESULTS/<name>).") var results: String = "results"
        @Flag(help: "Print the stable JSON report instead of text.")
        var json = false
        @Flag(help: "Redraw the report until the sweep is finished (Ctrl-C to stop watching).") var watch = false
        @Option(help: "Time between redraws with --watch: 2s, 1m or seconds.", transform: DurationFlag.seconds) var interval: Double = 2

        @Option(help: "Coordinator CURVE public key file (.pub), for an encrypted coordinator.") var curveServerKey: String?
        @Option(help: "A CURVE secret key file (.key) listed in the coordinator's authorized_keys.") var curveSecret: String?

        func run() throws {
            let tty = isatty(STDOUT_FILENO) == 1
            while true {
                let (text, finished) = try report()
                let clear = watch && tty ? "\u{1B}[H\u{1B}[2J" : ""
                FileHandle.standardOutput.write(Data((clear + text + (text.hasSuffix("\n") ? "" : "\n")).utf8))
                guard watch, !finished else { return }
                Thread.sleep(forTimeInterval: interval)
            }
        }

        /// The report text and whether the sweep has nothing left to run.
        func report() throws -> (String, Bool) {
            guard target.contains("://") else {
                let store = try SweepStore.open(directory: try SweepStore.locate(target: target, resultsRoot: results))
                let status = try store.status()
                let done = status.counts.pending + status.counts.leased == 0
                if json { return (try status.jsonText(), done) }
                var text = status.text()
                let flagged = try TrialFlags(store: store, records: store.records(), checkArrays: false).reasons.count
                if flagged > 0 {
                    text += "flagged: \(flagged) done trial(s) look degenerate (chance accuracy or missing metrics); `fsweep aggregate` lists them\n"
                }
                return (text, done)
            }
            let curve = try curveServerKey.map { path in
                WorkerCurve(serverPublicKey: try CurveKeyPair.readKey(at: path),
                            keys: try CurveKeyPair.fromSecret(try CurveKeyPair.readKey(at: curveSecret ?? "")))
            }
            let live = try ClusterClient.liveStatus(endpoint: target, curve: curve)
            let finished = live.store.counts.pending + live.store.counts.leased == 0
            if json { return (try live.store.jsonText(), finished) }
            return ("coordinator \(target): \(live.workers) worker(s) connected, \(live.busy) busy\n" + live.store.text(), finished)
        }
    }
}
