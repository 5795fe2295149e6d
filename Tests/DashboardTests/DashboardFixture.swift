import Dashboard
import Foundation
import TestSupport
import Sweeps
import Trials

/// A results root with one sweep `t` of 12 trials: one done, one failed, one running at epoch 1/2, nine pending.
struct DashboardFixture {
    static let yaml = """
        version: 1
        name: t
        fixed:
          dataset: {name: synthetic, image_size: 16}
          model: {arch: convactually, width: 16}
          train: {epochs: 2}
          probes: [sensitivity]
        grid:
          model.depth: [1, 2, 4]
          train.weight_decay: [1.0e-4, 1.0e-2]
        seeds: [0, 1]
        """

    let root: URL
    let store: SweepStore
    let done: String, failed: String, running: String
    let runningLease: Lease
    static let worker = LeaseOwner(worker: "w3", identity: "zmq:w3")

    init(_ label: String = #function) throws {
        let safe = label.filter { $0.isLetter || $0.isNumber }
        root = FileManager.default.temporaryDirectory.appendingPathComponent("fsweep-dash-\(safe)-\(UUID().uuidString)")
        let dir = root.appendingPathComponent("t")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        store = try SweepStore.create(in: try DirectoryLock(directory: dir), spec: try SweepSpec(yaml: DashboardFixture.yaml))
        let w1 = LeaseOwner(worker: "w1", identity: "zmq:w1")
        let a = try store.grantLease(to: w1)!, b = try store.grantLease(to: w1)!
        let c = try store.grantLease(to: DashboardFixture.worker)!
        _ = try store.complete(trialID: a.trialID, leaseID: a.id, owner: w1, result: TrialResult(
            metrics: ["test_accuracy": 0.5], epochs: [["loss": 2], ["loss": 1]], durationSeconds: 2))
        try store.startLease(b.id, owner: w1)
        _ = try store.fail(trialID: b.trialID, leaseID: b.id, owner: w1, reason: "diverged: loss is NaN at epoch 1", retryable: false)
        try store.recordProgress(trialID: c.trialID, leaseID: c.id, owner: DashboardFixture.worker,
                                 progress: EpochProgress(epoch: 1, epochs: 2, metrics: ["loss": 2.5]))
        done = a.trialID; failed = b.trialID; running = c.trialID; runningLease = c
    }

    /// Records the running trial's next epoch (what a coordinator does when a worker reports one).
    func recordEpoch(_ epoch: Int, loss: Double) throws {
        try store.recordProgress(trialID: running, leaseID: runningLease.id, owner: DashboardFixture.worker,
                                 progress: EpochProgress(epoch: epoch, epochs: 2, metrics: ["loss": loss]))
    }
}

/// Runs `body` against a dashboard over `root` on a free loopback port, then stops the server.
func withDashboard(root: URL, token: String? = nil, _ body: (HTTPClient) async throws -> Void) async throws {
    var server = try DashboardServer(root: root, bind: "127.0.0.1:0", token: token)
    server.pollInterval = .milliseconds(100)
    let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
    let task = Task {
        do { try await server.run { port in continuation.yield(port) } } catch {}
        continuation.finish()
    }
    var iterator = ports.makeAsyncIterator()
    guard let port = await iterator.next() else { throw ClientError("the dashboard did not start") }
    do { try await body(HTTPClient(port: port)) } catch { task.cancel(); throw error }
    task.cancel()
    _ = await task.result
}

