import Foundation
import Testing
@testable import Cluster
import Sweeps

@Suite(.serialized) struct LocalWorkersTests {
    @Test("local workers get the GPUs in turn, round-robin when there are more workers than GPUs")
    func gpuAssignment() {
        #expect((0..<5).map { LocalWorkers.gpu(forSlot: $0, of: ["0", "1"]) } == ["0", "1", "0", "1", "0"])
        #expect(LocalWorkers.gpu(forSlot: 3, of: []) == nil)
    }

    @Test("fsweep run --gpus gives each local worker's runner its own CUDA_VISIBLE_DEVICES")
    func runPinsWorkersToGPUs() throws {
        let dir = try Harness.tempDir("gpus")
        let spec = try Harness.spec(in: dir, name: "g", trials: 4)
        let log = dir + "/gpus.log"
        let runner = "echo \"$FSWEEP_TRIAL_ID $CUDA_VISIBLE_DEVICES\" >> \(log); " + Harness.runner(log: dir + "/runs.log", sleep: 0.1)
        let run = try Harness.Child(["run", spec, "--results", dir, "--workers", "2", "--gpus", "3,5", "--quiet",
                                     "--runner-command", runner, "--heartbeat", "0.2"])
        defer { run.kill9() }
        #expect(run.wait(120) == 0, "run log:\n\(run.log)")
        let seen = Harness.lines(log).map { $0.split(separator: " ").map(String.init) }
        #expect(seen.count == 4)
        #expect(seen.allSatisfy { $0.count == 2 && ["3", "5"].contains($0[1]) }, "\(seen)")
    }
}
