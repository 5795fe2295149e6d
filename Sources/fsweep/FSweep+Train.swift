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

        @Option(help: "A trial config JSON (as stored in a sweep); flags below override nothing when given.")
        var config: String?
        @Option(help: "convactually | myrtle | vgg11 | vgg13 | vgg16 | vgg19") var arch: String = "convactually"
        @Option(help: "ConvActually depth (d−1 circular convolutions + dense).") var depth: Int?
        @Option(help: "Base channel count (64 in the paper).") var width: Int?
        @Option(help: "relu | linear") var activation: String?
        @Flag(help: "Batch normalization after each convolution (VGG, Myrtle).") var batchNorm = false
        @Option(help: "synthetic | cifar10 | npz") var dataset: String = "synthetic"
        @Option(help: "Directory with the CIFAR-10 binary batches.") var dataDir: String?
        @Option(help: "Path of an .npz image set (x_train, y_train, x_test, y_test).") var dataPath: String?
        @Option(help: "Image side, 4…1024 (synthetic: generated, default 32; cifar10/npz: must match the data).") var imageSize: Int?
        @Option(help: "Training images (class-balanced subset).") var trainSize: Int?
        @Option(help: "Test images (class-balanced subset).") var testSize: Int?
        @Option(help: "none | hpf | lpf") var filter: String?
        @Option(help: "Synthetic class-signal band: low | mid | high | mixed") var band: String?
        @Flag(help: "Flip + translate-by-2 augmentation.") var augment = false
        @Option var epochs: Int?
        @Option var batchSize: Int?
        @Option var lr: Double?
        @Option var momentum: Double?
        @Option var weightDecay: Double?
        @Option(help: "constant | cosine | step | plateau") var schedule: String?
        @Option var seed: Int = 0
        @Option(help: "Compute threads.") var threads: Int = 1
        @Option(help: "Output directory.") var out: String

        func validate() throws {
            guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
            func check(_ flag: String, _ value: String?, _ allowed: [String]) throws {
                guard let value, !allowed.contains(value) else { return }
                throw ValidationError("--\(flag) '\(value)' is not one of: \(allowed.joined(separator: ", "))")
            }
            try check("arch", arch, ModelSpec.Arch.allCases.map(\.rawValue))
            try check("activation", activation, ModelSpec.Activation.allCases.map(\.rawValue))
            try check("dataset", dataset, DatasetSpec.Name.allCases.map(\.rawValue))
            try check("filter", filter, DatasetSpec.Filter.allCases.map(\.rawValue))
            try check("band", band, DatasetSpec.Band.allCases.map(\.rawValue))
            try check("schedule", schedule, TrainSpec.Schedule.allCases.map(\.rawValue))
        }

        func run() throws {
            let trial = try config.map(TrialConfigFile.load) ?? TrialConfigFile.fromFlags(
                ["dataset": ["name": dataset, "data_dir": dataDir, "path": dataPath, "image_size": imageSize,
                             "train_size": trainSize, "test_size": testSize, "filter": filter, "band": band,
                             "augment": augment ? true : nil],
                 "model": ["arch": arch, "depth": depth, "width": width, "activation": activation,
                           "batch_norm": batchNorm ? true : nil],
                 "train": ["epochs": epochs, "batch_size": batchSize, "lr": lr, "momentum": momentum,
                           "weight_decay": weightDecay, "schedule": schedule]], seed: seed)
            try TrainCommand.run(trial, threads: threads, out: URL(fileURLWithPath: out))
        }
    }
}
