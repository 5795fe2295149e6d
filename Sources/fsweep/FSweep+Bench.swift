import ArgumentParser
import Foundation
import Runner
import Sweeps

extension FSweep {
    /// `fsweep bench …`: speed measurements (not tests); numbers go to BENCHMARKS.md.
    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Benchmarks: training throughput, probe time, cluster overhead, fault tolerance.",
            subcommands: [BenchTrain.self, BenchConv.self, BenchTrial.self, BenchProbe.self, BenchCluster.self, BenchStore.self, BenchValidate.self,
                          BenchChaos.self])
    }

    /// `fsweep bench train`: images/s and GFLOP/s of a training step on the paper's models.
    struct BenchTrain: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "train",
            abstract: "Training images/s (forward+backward+SGD, batch 128, 32×32×3), peak RSS and losses of the benchmark models.")

        @Option var threads: Int = 2
        @Option var batchSize: Int = 128
        @Option(help: "Timed steps per model (the median is reported).") var steps: Int = 5
        @Option(help: "Comma-separated subset of \(TrainBenchmark.models.map(\.0).joined(separator: ",")).") var models: String?
        @Flag(help: "Print {\"myrtle\": {\"images_per_second\": …, \"gflops\": …}, …} only.") var json = false
        @Option(help: "Write each model's initial parameters and the batch as .npy files under this directory.") var dump: String?

        func validate() throws {
            let known = Set(TrainBenchmark.models.map(\.0))
            for name in models?.split(separator: ",").map(String.init) ?? [] where !known.contains(name) {
                throw ValidationError("unknown model '\(name)' in --models; choose from \(TrainBenchmark.models.map(\.0).joined(separator: ","))")
            }
        }

        func run() throws {
            let only = models.map { Set($0.split(separator: ",").map(String.init)) }
            let r = try TrainBenchmark.run(threads: threads, batch: batchSize, steps: steps, only: only,
                                           dump: dump.map { URL(fileURLWithPath: $0) }, log: json ? { _ in } : { Console.line($0) })
            if json {
                var obj: [String: Any] = ["fma_peak_gflops": r.peak]
                for (name, e) in r.entries {
                    obj[name] = try JSONSerialization.jsonObject(with: JSONEncoder().encode(e))
                }
                let data = try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys])
                Console.line(String(decoding: data, as: UTF8.self))
            }
        }
    }
}

extension FSweep {
    /// `fsweep bench conv`: per-pass GFLOP/s of the engine's 3×3 convolutions against the FMA peak.
    struct BenchConv: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "conv",
            abstract: "GFLOP/s of forward, input-gradient and weight-gradient passes of Myrtle's and VGG11's 3×3 convolutions (batch 128).")

        @Option var threads: Int = 2
        @Option var batchSize: Int = 128
        @Option(help: "Timed repeats per pass (the fastest is reported: the VM's other tenants only slow runs down).") var repeats: Int = 7

        func run() throws {
            let r = try ConvBenchmark.run(threads: threads, batch: batchSize, repeats: repeats, log: { Console.line($0) })
            Console.line(FMAPeak.describe(r.peak, threads: threads))
        }
    }
}

extension FSweep {
    /// `fsweep bench store`: expansion and batched insert of a large grid (100,000 trials by default).
    struct BenchStore: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "store",
            abstract: "Time to expand and store a large grid, time to reopen it, and peak memory.")

        @Option(help: "Scratch directory for the benchmark store (deleted and recreated).")
        var scratch: String = NSTemporaryDirectory() + "fsweep-bench-store"

        func run() throws {
            let r = try StoreBenchmark.run(directory: URL(fileURLWithPath: scratch))
            Console.line(String(format: "%d trials: expand %.2f s, expand+store %.2f s, reopen unchanged %.2f s, peak RSS %.0f MB",
                                r.trials, r.expandSeconds, r.createSeconds, r.reopenSeconds, r.peakResidentMB))
        }
    }
}

extension FSweep {
    /// `fsweep bench validate`: validation of a 10^6-trial grid against the former trial-by-trial check.
    struct BenchValidate: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "validate",
            abstract: "Time to validate a 1000 × 1000 grid, side by side with checking every trial, and to refuse a billion-laughs file.")

        func run() throws {
            let r = try ValidationBenchmark.run()
            Console.line(String(format: "%d trials: validate %.3f s, trial by trial %.1f s (%.0f× slower), expand alone %.1f s; "
                + "billion laughs refused in %.4f s", r.trials, r.validateSeconds, r.perTrialSeconds,
                r.perTrialSeconds / r.validateSeconds, r.expandSeconds, r.billionLaughsSeconds))
        }
    }
}
