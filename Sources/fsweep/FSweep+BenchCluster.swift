import ArgumentParser
import Cluster
import Foundation
import Logging
import Trials

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

        @Option(help: "Rounds of the one-worker comparison (next lease reserved ahead or not, alternating).") var rounds: Int = 5

        func run() throws {
            let logger = log.makeLogger("fsweep.bench")
            try oneWorker(logger)
            let load = try ClusterBenchmark.run(workers: workers, trials: trials, sleepSeconds: sleep, directory: scratch, logger: logger)
            print("sustained: \(load)")
        }

        /// One worker on 10 ms trials, with and without the reserved next lease, alternating: the median over rounds
        /// of the mean time from a RESULT to the next LEASE (what a worker waits for the coordinator per trial), beside
        /// a bare libzmq round trip after the same pauses (the floor). Then no sleep at all: each trial then also waits
        /// for the commit of the one before (the throughput bound).
        private func oneWorker(_ logger: Logger) throws {
            var idle: [Bool: [Double]] = [:], floor: [Double] = []
            for round in 0..<max(1, rounds) {
                for reserve in round % 2 == 0 ? [false, true] : [true, false] {
                    let r = try ClusterBenchmark.run(workers: 1, trials: 200, sleepSeconds: 0.01, reserveAhead: reserve,
                                                     directory: scratch, logger: logger)
                    idle[reserve, default: []].append(r.meanIdleSeconds * 1000)
                }
                // The simulated 10 ms trial reports its epoch halfway: 5 ms pass between the worker's messages.
                floor.append(try RoundTripBenchmark.run(trips: 200, pauseSeconds: 0.005) * 1000)
            }
            let off = idle[false]?.upperMedian ?? 0, on = idle[true]?.upperMedian ?? 0
            print(String(format: "one worker, 10 ms trials, median of %d rounds: RESULT → next LEASE %.3f ms with the next lease "
                         + "reserved, %.3f ms without (%.1f× less); a bare libzmq round trip %.3f ms", max(1, rounds), on, off,
                         off / max(on, 1e-9), floor.upperMedian ?? 0))
            let zero = try ClusterBenchmark.run(workers: 1, trials: 200, sleepSeconds: 0, directory: scratch, logger: logger)
            print("one worker, no sleep: \(zero)")
        }
    }
}
