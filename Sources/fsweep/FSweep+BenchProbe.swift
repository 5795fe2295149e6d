import ArgumentParser
import Foundation
import Probes

extension FSweep {
    /// `fsweep bench probe`: time of the sensitivity probe.
    struct BenchProbe: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "probe",
            abstract: "Time to compute sensitivity (K backward passes + FFT) for random 32×32 images on myrtle, convactually-4 (width 64) and a linear convactually-4 (width 32).")

        @Option var images: Int = 1000
        @Option var classes: Int = 10
        @Option var threads: Int = 2
        @Option var batchSize: Int = ModelEvaluation.gradientBatchSize
        @Option(help: "Timed runs per model (the median is reported).") var repeats: Int = 1
        @Option(help: "Only this model: myrtle, convactually4 or convactually-linear.") var model: String?
        @Flag(help: "Print JSON only.") var json = false

        func run() throws {
            let entries = try SensitivityBenchmark.run(images: images, classes: classes, threads: threads, batchSize: batchSize,
                                                       repeats: repeats, only: model, log: json ? { _ in } : { print($0) })
            if json {
                var obj: [String: Any] = [:]
                for e in entries { obj[e.model] = ["seconds": e.seconds, "images_per_second": e.imagesPerSecond, "images": e.images] }
                print(String(decoding: try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys]), as: UTF8.self))
            }
        }
    }
}
