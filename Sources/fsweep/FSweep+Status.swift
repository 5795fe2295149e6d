import ArgumentParser
import Foundation
import Sweeps

extension FSweep {
    /// `fsweep status results/<name> [--json]`: progress of a sweep from its store.
    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a sweep's progress: counts by state, running and failed trials, ETA.")

        @Argument(help: "The sweep's results directory (results/<name>).")
        var directory: String

        @Flag(help: "Print the stable JSON report instead of text.")
        var json = false

        func run() throws {
            let status = try SweepStore.open(directory: URL(fileURLWithPath: directory)).status()
            print(json ? try status.jsonText() : status.text(), terminator: json ? "\n" : "")
        }
    }
}
