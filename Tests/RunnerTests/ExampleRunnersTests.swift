import Foundation
import Testing
@testable import Runner
import Trials

/// The example runners in examples/runners follow the ExternalRunner protocol end to end.
@Suite struct ExampleRunnersTests {
    static let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("examples/runners").path
    /// The python that has PyTorch: the comparison venv of `bench/setup-torch-venv.sh` when it exists
    /// (`FSWEEP_TORCH_VENV`, default ~/.cache/fsweep/torch-venv), else python3 from PATH.
    static let python: String = {
        let venv = ProcessInfo.processInfo.environment["FSWEEP_TORCH_VENV"]
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/fsweep/torch-venv").path
        let candidate = venv + "/bin/python"
        return FileManager.default.isExecutableFile(atPath: candidate) ? candidate : "python3"
    }()
    static let hasTorch: Bool = {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = [python, "-c", "import torch"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }()

    @Test("the shell runner's epochs, metrics, arrays and GPU environment arrive through ExternalRunner")
    func shellRunner() throws {
        let config = TrialConfig(dataset: DatasetSpec(name: .synthetic), model: ModelSpec(arch: .convactually),
                                 train: TrainSpec(epochs: 3, lr: 0.1), probes: [], seed: 0)
        let seen = Locked<[EpochProgress]>([])
        let runner = ExternalRunner(command: "sh \(ExampleRunnersTests.examples)/shell_runner.sh",
                                    environment: ["CUDA_VISIBLE_DEVICES": "1,2"])
        let result = try runner.run(config, trialID: "t", events: TrialEvents(epoch: { e in seen.withLock { $0.append(e) } }, step: {}))
        // closed forms of the toy: loss_k = 2.3 / (1 + 10·lr·k), accuracy = 1 − 0.9 / (1 + 10·lr·epochs)
        let losses = (1...3).map { 2.3 / (1 + 10 * 0.1 * Double($0)) }
        #expect(abs((result.metrics["test_accuracy"] ?? 0) - (1 - 0.9 / 4)) < 1e-6)
        #expect(result.metrics["cuda_devices"] == 2)
        #expect(seen.current.map(\.epoch) == [1, 2, 3])
        let curve = try #require(result.arrays.first { $0.name == "loss_curve" })
        #expect(curve.shape == [3])
        #expect(zip(curve.data, losses).allSatisfy { abs(Double($0) - $1) < 1e-5 })
        #expect(result.epochs.count == 3)
    }

    @Test("the PyTorch runner trains one epoch and reports metrics and the filter spectrum",
          .enabled(if: ExampleRunnersTests.hasTorch, "no python with torch (run bench/setup-torch-venv.sh)"))
    func torchRunner() throws {
        let config = TrialConfig(dataset: DatasetSpec(name: .synthetic, imageSize: 8, trainSize: 64, testSize: 32),
                                 model: ModelSpec(arch: .convactually, depth: 2, width: 4),
                                 train: TrainSpec(epochs: 1, batchSize: 32, lr: 0.01), probes: [], seed: 1)
        let seen = Locked<[EpochProgress]>([])
        let result = try ExternalRunner(command: "\(ExampleRunnersTests.python) \(ExampleRunnersTests.examples)/torch_runner.py")
            .run(config, trialID: "t", events: TrialEvents(epoch: { e in seen.withLock { $0.append(e) } }, step: {}))
        let accuracy = try #require(result.metrics["test_accuracy"])
        #expect(accuracy >= 0 && accuracy <= 1)
        #expect(seen.current.map(\.epoch) == [1])
        #expect(result.arrays.first { $0.name == "filter_power" }?.shape == [8, 8])
    }
}
