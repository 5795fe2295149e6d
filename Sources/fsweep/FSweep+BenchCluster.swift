import ArgumentParser
import Cluster
import Foundation

extension FSweep {
    /// `fsweep bench cluster`: coordinator overhead and throughput with sleeping trials.
    struct BenchCluster: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "cluster",
            abstract: "Measure coordinator overhead per trial and sustained trials/s with simulated workers.")

        @Option(help: "Simulated workers (in-process DEALERs).") var workers: Int = 200
        @Option(help: "Trials to run.") var trials: Int = 2000
        @Option(help: "Seconds each trial sleeps.") var sleep: Double = 0.5
        @Option(help: "Scratch directory for the benchmark store.") var scratch: String = NSTemporaryDirectory()
        @OptionGroup var log: LogOptions

        func run() throws {
            let logger = log.makeLogger("fsweep.bench")
            let overhead = try ClusterBenchmark.run(workers: 1, trials: min(trials, 200), sleepSeconds: 0, directory: scratch, logger: logger)
            print("round trip (1 worker, no sleep): \(overhead)")
            let load = try ClusterBenchmark.run(workers: workers, trials: trials, sleepSeconds: sleep, directory: scratch, logger: logger)
            print("sustained: \(load)")
        }
    }
}
