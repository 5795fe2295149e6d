import ArgumentParser
import Cluster
import Foundation
import Runner
import Sweeps
import Trials

extension FSweep {
    /// `fsweep bench trial`: one trial end to end (data, training, probes, result encoding), time per phase.
    struct BenchTrial: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "trial",
            abstract: "Times one trial end to end as a worker runs it (quickstart or paper-sized), per phase.")

        @Option(help: "quickstart (sweeps/quickstart.yaml, depth 4, seed 0) or paper (ConvActually-4 width 64, 32×32, sensitivity on 1,000 images).")
        var shape: String = "quickstart"
        @Option var threads: Int = 2
        @Option(help: "The quickstart sweep file.") var sweep: String = "sweeps/quickstart.yaml"
        @Flag(help: "Print the phases as one JSON object.") var json = false

        func validate() throws {
            guard TrialBenchmark.Shape(rawValue: shape) != nil else {
                throw ValidationError("unknown --shape '\(shape)'; choose quickstart or paper")
            }
        }

        func run() throws {
            let config = try TrialBenchmark.config(TrialBenchmark.Shape(rawValue: shape)!, quickstart: sweep)  // validated
            let p = try TrialBenchmark.run(config, threads: threads, encode: Self.encodedBytes)
            if json {
                let data = try JSONEncoder().encode([shape: p])
                Console.line(String(decoding: data, as: UTF8.self))
            } else {
                Console.line(String(format: "%@: total %.2f s = setup %.2f + training %.2f + probes %.2f + encoding %.3f (%d bytes)",
                                    shape, p.total, p.setup, p.training, p.probes, p.encoding, p.resultBytes))
            }
        }

        /// The result as a worker puts it on the wire (the one call into the wire format; bytes of all frames).
        static func encodedBytes(_ result: TrialResult) -> Int {
            let body = ResultBody(lease: LeaseRef(trialID: "bench", leaseID: 1), result: result)
            return Wire.encode(.result(body, payload: ResultBody.payload(of: result))).reduce(0) { $0 + $1.count }
        }
    }
}
