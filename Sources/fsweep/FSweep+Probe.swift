import ArgumentParser
import Datasets
import Foundation
import Networks
import Probes
import Cluster
import Runner
import Sweeps
import TensorCore
import Trials

extension FSweep {
    /// `fsweep probe MODEL_DIR --probe sensitivity,lfc_hfc --out DIR`: measurements of a saved model;
    /// `fsweep probe results/NAME --probe lfc_hfc`: the probes on every stored checkpoint of a sweep, into its store.
    struct Probe: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "probe",
            abstract: "Run frequency probes on a saved model (writes .npy files and probes.json to --out), or on every "
                + "stored checkpoint of a sweep (adds the outputs to its store).",
            discussion: "Probes: \(ProbeRegistry.names.joined(separator: ", ")). On a model directory they run on the test split of --dataset "
                + "(default: synthetic data shaped like the model); with --images, sensitivity uses exactly those images. "
                + "On a sweep's results directory (one holding sweep.sqlite, trained with runner.save_model: true) each done trial's "
                + "model is rebuilt from trials/<id>/model.safetensors and probed on its own data with its own probe settings; "
                + "trials that already have the probe's outputs are skipped unless --force.")

        @Argument(help: "Model directory (model.safetensors [+ model.json], as written by training), or a sweep's results directory.")
        var modelDir: String

        @Option(help: "Probe names, comma-separated or repeated.")
        var probe: [String]

        @Option(help: "An [N, C, H, W] float32 .npy of pixel-space images for sensitivity.")
        var images: String?

        @Option(help: "Dataset: synthetic, cifar10 or npz. Default synthetic unless only --images is given.")
        var dataset: DatasetSettings.Name?

        @Option(help: "CIFAR-10 binary directory (cifar10) or .npz file/directory (npz).")
        var dataDir: String?

        @Option(help: "Synthetic image size (default: the model's).")
        var imageSize: Int?

        @Option(help: "Test images (a seeded class-balanced subset for cifar10/npz).")
        var testSize: Int?

        @Option(help: "Training images loaded (data spectrum, frequency principle). Synthetic default 5000.")
        var trainSize: Int?

        @Option(help: "Frequency filter applied to the data: none, hpf or lpf.")
        var filter: DatasetSettings.Filter = .none

        @Option(help: "Synthetic evidence band: low, mid, high or mixed.")
        var band: FrequencyBand = .mixed

        @Option(help: "Evaluation images per probe (default: each probe's own).")
        var maxImages: Int?

        @Option(help: "clean (default) or paper (the published code's quirks).")
        var compat: ProbeOptions.Compat = .clean

        @Option(help: "Probe parameter key=value (repeatable), e.g. radii=4,8,12 or v=4.")
        var param: [String] = []

        @Option(help: "Seed for subsets, signs and deformations.")
        var seed: UInt64 = 0

        @Option(help: "Compute threads.")
        var threads: Int = 2

        @Option(help: "Output directory (model directories only).")
        var out: String?

        @Flag(help: "Sweep directories: probe trials again even when they already have the probe's outputs.")
        var force = false

        @Option(help: "Sweep directories: probe processes sharing the trials (each with --threads threads).")
        var workers: Int = 1

        @Option(help: .hidden)
        var workerTasks: String?

        var names: [String] { probe.flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } }

        func validate() throws {
            for n in names where !ProbeRegistry.names.contains(n) {
                throw ValidationError("unknown probe '\(n)' (known: \(ProbeRegistry.names.joined(separator: ", ")))")
            }
            if names.isEmpty { throw ValidationError("give at least one --probe") }
            if threads < 1 { throw ValidationError("--threads must be at least 1") }
            if workers < 1 { throw ValidationError("--workers must be at least 1") }
            if !isSweep && out == nil { throw ValidationError("give --out DIR for the probe outputs of a model directory") }
            if isSweep {
                let modelOnly = [("--out", out != nil), ("--images", images != nil), ("--dataset", dataset != nil), ("--data-dir", dataDir != nil),
                                 ("--image-size", imageSize != nil), ("--test-size", testSize != nil), ("--train-size", trainSize != nil),
                                 ("--filter", filter != .none), ("--band", band != .mixed), ("--max-images", maxImages != nil),
                                 ("--compat", compat != .clean), ("--param", !param.isEmpty), ("--seed", seed != 0)].filter(\.1).map(\.0)
                if !modelOnly.isEmpty {
                    throw ValidationError("\(modelOnly.joined(separator: ", ")) apply to model directories; on a sweep each trial's own data "
                        + "and its sweep's settings for the probe are used (defaults for a probe the sweep did not list)")
                }
            }
        }

        /// A sweep's results directory holds the store.
        var isSweep: Bool {
            FileManager.default.fileExists(atPath: URL(fileURLWithPath: modelDir).appendingPathComponent(SweepStore.databaseName).path)
        }

        func run() throws {
            if isSweep { return try runOnSweep() }
            guard let out else { return }
            Parallel.setThreads(threads)
            let model = try Checkpoint.load(from: URL(fileURLWithPath: modelDir))
            let data = try ProbeInputs.load(model: model, images: images, dataset: dataset, dataDir: dataDir,
                                            imageSize: imageSize, testSize: testSize, trainSize: trainSize,
                                            filter: filter, band: band, seed: seed)
            var params: [String: ProbeValue] = [:]
            for p in param { let (k, v) = try ProbeResult.parameter(p); params[k] = v }
            let options = ProbeOptions(images: maxImages, compat: compat, params: params, seed: seed)
            let result = try ProbeRegistry.run(names, model: model, data: data, options: options)
            try result.write(to: URL(fileURLWithPath: out))
            print("wrote \(result.arrays.count) arrays and \(result.scalars.count) scalars to \(out)")
        }
    }
}

extension FSweep.Probe {
    /// The sweep form: every stored checkpoint, outputs into the store; exits 1 when a trial failed.
    func runOnSweep() throws {
        let directory = URL(fileURLWithPath: modelDir)
        if let workerTasks {
            return try CheckpointProbes.serveTasks(directory: directory, tasksFile: URL(fileURLWithPath: workerTasks), threads: threads,
                                                   emit: Console.line)
        }
        let outcome = try CheckpointProbes.run(directory: directory, probes: names, force: force, threads: threads, workers: workers,
                                               executable: LocalWorkers.selfExecutable(), report: Console.error)
        print(CheckpointProbes.summary(outcome, directory: modelDir))
        if !outcome.failed.isEmpty { throw ExitCode(1) }
    }
}
