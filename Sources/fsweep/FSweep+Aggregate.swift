import ArgumentParser
import Foundation
import Reports
import Sweeps

extension FSweep {
    /// `fsweep aggregate results/<name>`: tables, arrays, figures and report.html under `aggregate/`.
    struct Aggregate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write CSV tables, .npy arrays, SVG figures and report.html for a sweep.")

        @Argument(help: "The sweep's results directory (results/<name>).")
        var directory: String

        @Option(help: "Output directory (default: <directory>/aggregate).")
        var output: String?

        @Flag(help: "Keep flagged (degenerate) trials in summary.csv and the figures.")
        var includeFlagged = false

        func run() throws {
            let store = try SweepStore.open(directory: URL(fileURLWithPath: directory))
            let report = try Reports.Aggregate.run(store: store, output: output.map { URL(fileURLWithPath: $0) },
                                                   options: .init(includeFlagged: includeFlagged))
            print("wrote \(report.files.count) files to \(report.directory.path)")
            for (id, reasons) in report.flags.reasons.sorted(by: { $0.key < $1.key }) {
                print("warning: trial \(id) flagged: \(reasons.joined(separator: "; "))")
            }
            if !report.flags.reasons.isEmpty {
                print(report.excludedFlagged
                      ? "\(report.flags.reasons.count) flagged trial(s) left out of summary.csv and the figures (--include-flagged keeps them)"
                      : "\(report.flags.reasons.count) flagged trial(s) kept in summary.csv and the figures")
            }
            if !report.nonNumericMetrics.isEmpty {
                print("warning: non-numeric metrics left out of the tables and figures: \(report.nonNumericMetrics.joined(separator: ", "))")
            }
            for (figure, reason) in report.skipped { print("skipped \(figure): \(reason)") }
            print("open \(report.directory.appendingPathComponent("report.html").path)")
        }
    }
}
