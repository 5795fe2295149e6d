import Foundation
import Sweeps
import Testing
@testable import Runner

/// The checkpoint size told before a `save_model` sweep starts, against parameter counts by hand.
@Suite struct CheckpointPlanTests {
    static func spec(depths: String, saveModel: Bool = true) throws -> SweepSpec {
        try SweepSpec(yaml: """
            version: 1
            name: plan
            fixed:
              dataset: {name: synthetic, image_size: 8}
              model: {arch: convactually, width: 4}
              probes: []
            grid:
              model.depth: \(depths)
            seeds: [0, 1, 2]
            runner: {save_model: \(saveModel)}
            """)
    }

    // ConvActually on 3×8×8 images, 10 classes, width 4: depth 1 is the dense layer alone, 10·(3·64) + 10 = 1930
    // parameters; depth 2 adds one full-image convolution, 4·3·8·8 + 4 = 772, and its dense layer reads
    // 4·64 features: 10·256 + 10 = 2570, in all 3342.
    @Test func sizesAreParametersTimesFourBytes() throws {
        #expect(try CheckpointPlan.bytesPerTrial(Self.spec(depths: "[1]")) == [4 * 1930])
        #expect(try CheckpointPlan.bytesPerTrial(Self.spec(depths: "[2]")) == [4 * 3342])
        let one = try #require(try CheckpointPlan.describe(Self.spec(depths: "[2]")))
        #expect(one == "checkpoints (runner.save_model): 3 trials × 13.4 KB (3342 parameters × 4 bytes) = 40.1 KB in trials/<id>/model.safetensors")
        let range = try #require(try CheckpointPlan.describe(Self.spec(depths: "[1, 2]")))
        #expect(range.contains("6 trials × 7.7 KB–13.4 KB each (1930–3342 parameters × 4 bytes), at most 80.2 KB"))
        #expect(try CheckpointPlan.describe(Self.spec(depths: "[1]", saveModel: false)) == nil)
    }
}
