import Datasets
import Foundation
import Sweeps
import Testing
@testable import Runner
import Trials

@Suite struct TrialSettingsTests {
    @Test func theSweepSchemaAndTheEngineAgreeOnImageSizes() {
        // two copies of one bound (Sweeps does not import Datasets): pinned here
        #expect(DatasetSpec.imageSizes == DatasetSettings.imageSizes)
    }

    @Test func aHugeImageSizeIsANonRetryableFailureOnTheWorker() throws {
        // image_size 100000 must not reach the generator (a fatal allocation): a config from an older or
        // hostile coordinator fails the trial, not the worker process
        let config = TrialConfig(dataset: DatasetSpec(name: .synthetic, imageSize: 100_000, trainSize: 10, testSize: 10),
                                 model: ModelSpec(arch: .convactually, width: 2), train: TrainSpec(epochs: 1), probes: [], seed: 0)
        do { _ = try LocalTrial.run(config); Issue.record("image_size 100000 was accepted") } catch let f as TrialFailure {
            #expect(!f.retryable)
            #expect(f.reason == "invalid dataset settings: dataset: image_size must be 4…1024, got 100000")
        }
    }

    @Test func aSyntheticSplitPastTheMemoryBoundFailsBeforeGenerating() {
        let spec = DatasetSpec(name: .synthetic, imageSize: 64, trainSize: 1_000_000)
        #expect { try TrialSettings.dataset(spec) } throws: { e in
            guard let f = e as? TrialFailure else { return false }
            return !f.retryable && f.reason.hasPrefix("invalid dataset settings: dataset: train_size 1000000: synthetic images of 3×64×64")
        }
    }
}
