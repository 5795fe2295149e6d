import ArgumentParser
import Cluster
import Foundation
import Reports
import Sweeps

extension FSweep {
    /// `fsweep status results/<name> [--json]`: progress of a sweep from its store or a live coordinator.
    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a sweep's progress: counts by state, running and failed trials, ETA.",
            discussion: "TARGET is a results directory (results/<name>) or a running coordinator's endpoint (tcp://HOST:PORT).")

        @Argument(help: "The sweep's results directory, or a live coordinator endpoint tcp://HOST:PORT.")
        var target: String

        @Flag(help: "Print the stable JSON report instead of text.")
        var json = false

        @Option(help: "Coordinator CURVE public key file (.pub), for an encrypted coordinator.") var curveServerKey: String?
        @Option(help: "A CURVE secret key file (.key) listed in the coordinator's authorized_keys.") var curveSecret: String?

        func run() throws {
            guard target.contains("://") else {
                let store = try SweepStore.open(directory: URL(fileURLWithPath: target))
                let status = try store.status()
                print(json ? try status.jsonText() : status.text(), terminator: json ? "\n" : "")
                if !json {
                    let flagged = try TrialFlags(store: store, records: store.records(), checkArrays: false).reasons.count
                    if flagged > 0 { print("flagged: \(flagged) done trial(s) look degenerate (chance accuracy or missing metrics); `fsweep aggregate` lists them") }
                }
                return
            }
            let curve = try curveServerKey.map { path in
                WorkerCurve(serverPublicKey: try CurveKeyPair.readKey(at: path),
                            keys: try CurveKeyPair.fromSecret(try CurveKeyPair.readKey(at: curveSecret ?? "")))
            }
            let live = try ClusterClient.liveStatus(endpoint: target, curve: curve)
            if json { print(try live.store.jsonText()); return }
            print("coordinator \(target): \(live.workers) worker(s) connected, \(live.busy) busy")
            print(live.store.text(), terminator: "")
        }
    }
}
