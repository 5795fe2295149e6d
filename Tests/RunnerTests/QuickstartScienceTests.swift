import Foundation
import Sweeps
import Testing
@testable import Runner
import Trials

/// The three claims the quickstart sweep shows (README, docs/SCIENCE.md §1.5–§1.6), checked on a reduced copy
/// of `sweeps/quickstart.yaml`: its own settings (data, model, optimizer) at seed 0, with fewer images and
/// epochs, run through `LocalTrial.run` as every worker runs a trial. Thresholds are directions only, with the
/// margins measured on this reduced setting in a release build (the numbers are in the comments).
@Suite struct QuickstartScienceTests {
    /// The repository's `sweeps/quickstart.yaml`, found from this file's path.
    static let quickstart = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("sweeps/quickstart.yaml").path

    /// The quickstart's seed-0 trial at `depth` and `filter`, reduced: 1,000 training and 200 test images,
    /// 6 epochs, sensitivity on 100 test images.
    static func reduced(depth: Int, filter: ImageFilter) throws -> TrialConfig {
        let configs = try SweepSpec.load(path: quickstart).expand().filter { $0.seedRank == 0 }.map { try $0.config() }
        var c = try #require(configs.first { $0.model.depth == depth && ($0.dataset.filter ?? ImageFilter.none) == filter },
                             "sweeps/quickstart.yaml has no seed-0 trial at depth \(depth), filter \(filter)")
        c.dataset.trainSize = 1000
        c.dataset.testSize = 200
        c.train.epochs = 6
        c.probes = [ProbeRequest(name: "sensitivity", images: 100)]
        return c
    }

    // Measured on this reduced setting (release build, seeds 0–5 in place of 0; seed 0 first, then the range):
    //   depth 1, none: test accuracy 0.985 (0.985–1.0), slope 0.88 (0.88–0.90), centroid 5.10 (5.07–5.13)
    //   depth 4, none: test accuracy 0.86 (0.80–0.93),  slope 2.16 (2.07–2.27), centroid 2.72 (2.56–2.87)
    //   depth 1, hpf:  test accuracy 0.78 (0.76–0.81),  slope 0.82 (0.78–0.85), centroid 6.21 (6.20–6.23)
    //   depth 4, hpf:  test accuracy 0.47 (0.23–0.47),  slope 3.01 (2.66–3.25), centroid 5.17 (5.15–5.53)
    @Test("sensitivity follows the data spectrum, high-pass data moves it outward, depth sharpens it")
    func claims() throws {
        let filters = [ImageFilter.none, .hpf]
        var metrics: [String: [String: Double]] = [:]
        for depth in [1, 4] {
            for filter in filters {
                let outcome = try LocalTrial.run(try Self.reduced(depth: depth, filter: filter), threads: 1)
                metrics["\(depth) \(filter)"] = outcome.result.metrics
            }
        }
        func value(_ depth: Int, _ filter: ImageFilter, _ name: String) throws -> Double {
            try #require(metrics["\(depth) \(filter)"]?[name], "\(name) missing at depth \(depth), filter \(filter)")
        }
        let slope = ProbeOutput.alignmentSlope, centroid = ProbeOutput.sensitivityCentroid
        for depth in [1, 4] {
            for filter in filters {
                // The trainings learn (chance is 0.1), so the sensitivity is that of a working classifier.
                #expect(try value(depth, filter, "test_accuracy") > 0.2, "depth \(depth), filter \(filter)")
                // Sensitivity falls where the data's spectrum falls.
                #expect(try value(depth, filter, slope) > 0.5, "depth \(depth), filter \(filter)")
            }
            // High-pass data moves the sensitivity's mass outward.
            #expect(try value(depth, .hpf, centroid) > value(depth, ImageFilter.none, centroid) + 0.5, "depth \(depth)")
        }
        // Depth sharpens the alignment, on natural and on high-pass data.
        for filter in filters {
            #expect(try value(4, filter, slope) > value(1, filter, slope) + 0.5, "filter \(filter)")
        }
    }
}
