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

        func run() throws {
            let store = try SweepStore.open(directory: URL(fileURLWithPath: directory))
            let report = try Reports.Aggregate.run(store: store, output: output.map { URL(fileURLWithPath: $0) })
            print("wrote \(report.files.count) files to \(report.directory.path)")
            for (figure, reason) in report.skipped { print("skipped \(figure): \(reason)") }
            print("open \(report.directory.appendingPathComponent("report.html").path)")
        }
    }
}
