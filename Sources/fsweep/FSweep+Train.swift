import ArgumentParser
import Foundation
import Runner
import Sweeps
import Trials

extension FSweep {
    /// `fsweep train`: one trial, locally, from flags or a trial JSON.
    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train one model locally and write model.safetensors, model.json and metrics.json.")

        @Option(help: "A trial config JSON (as stored in a sweep); flags given beside it override its values.")
        var config: String?
        @Option(help: "\(Architecture.allCases.map(\.rawValue).joined(separator: " | "))") var arch: Architecture?
        @Option(help: "ConvActually depth (d−1 circular convolutions + dense).") var depth: Int?
        @Option(help: "Base channel count (64 in the paper).") var width: Int?
        @Option(help: "relu | linear") var activation: Activation?
        @Flag(help: "Batch normalization after each convolution (VGG, Myrtle).") var batchNorm = false
        @Option(help: "synthetic | cifar10 | npz (default synthetic)") var dataset: DatasetName?
        @Option(help: "Directory with the CIFAR-10 binary batches.") var dataDir: String?
        @Option(help: "Path of an .npz image set (x_train, y_train, x_test, y_test).") var dataPath: String?
        @Option(help: "Image side, 4…1024 (synthetic: generated, default 32; cifar10/npz: must match the data).") var imageSize: Int?
        @Option(help: "Training images (class-balanced subset).") var trainSize: Int?
        @Option(help: "Test images (class-balanced subset).") var testSize: Int?
        @Option(help: "none | hpf | lpf") var filter: ImageFilter?
        @Option(help: "Synthetic class-signal band: low | mid | high | mixed") var band: FrequencyBand?
        @Flag(help: "Flip + translate-by-2 augmentation.") var augment = false
        @Option var epochs: Int?
        @Option var batchSize: Int?
        @Option var lr: Double?
        @Option var momentum: Double?
        @Option var weightDecay: Double?
        @Option(help: "constant | cosine | step | plateau") var schedule: ScheduleName?
        @Option(help: "Seed (default 0).") var seed: Int?
        @Option(help: "Compute threads.") var threads: Int = 1
        @Option(help: "Output directory.") var out: String

        func validate() throws {
            guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        }

        /// The flags as a trial config; its values are checked by the sweep file's rules in `run`.
        var flagConfig: TrialConfig {
            TrialConfig(
                dataset: DatasetSpec(name: dataset ?? .synthetic, imageSize: imageSize, trainSize: trainSize, testSize: testSize,
                                     filter: filter, dataDir: dataDir, path: dataPath, band: band, augment: augment ? true : nil),
                model: ModelSpec(arch: arch ?? .convactually, depth: depth, width: width, activation: activation, batchNorm: batchNorm ? true : nil),
                train: TrainSpec(epochs: epochs, batchSize: batchSize, lr: lr, momentum: momentum, weightDecay: weightDecay,
                                 schedule: schedule),
                probes: [], seed: seed ?? 0)
        }

        func run() throws {
            let trial = try config.map { try TrialConfigFile.load($0, overrides: flagSettings) } ?? flagConfig.validated()
            try TrainCommand.run(trial, threads: threads, out: URL(fileURLWithPath: out))
        }
    }
}

