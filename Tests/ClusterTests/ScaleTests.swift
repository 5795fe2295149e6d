import Foundation
import Testing
@testable import Cluster
import Sweeps

/// Scale and multi-host checks with real processes; bounded in time. Nested in `FaultTests` so its
/// `.serialized` trait keeps every process-level test one at a time.
extension FaultTests {
@Suite struct ScaleTests {
    @Test func thousandIdleWorkersKeepCoordinatorMemoryBounded() throws {
        Harness.raiseFileLimit()
        let dir = try Harness.tempDir("idle")
        let spec = try Harness.spec(in: dir, name: "idle", trials: 1)
        let endpoint = "tcp://127.0.0.1:\(try Harness.freePort())"
        let log = dir + "/runs.log"
        // Finish the one trial first so that every later worker is idle; --keep-alive keeps serving.
        let coordinator = try Harness.Child(["coordinator", spec, "--bind", endpoint, "--results", dir, "--keep-alive",
                                             "--log-level", "warning"])
        defer { coordinator.kill9() }
        let w = try Harness.Child(["worker", "--connect", endpoint, "--id", "w", "--outbox", dir + "/ob", "--max-trials", "1",
                                   "--runner-command", Harness.runner(log: log, sleep: 0)])
        defer { w.kill9() }
        #expect(w.wait(30) == 0)
        let before = try #require(Harness.rssKiB(coordinator.pid))

        // 1,000 DEALERs (two contexts: libzmq allows 1,023 sockets per context) announce and heartbeat.
        let contexts = [try ZMQContext(), try ZMQContext()]
        var sockets: [ZMQSocket] = []
        for i in 0..<1000 {
            let s = try ZMQSocket(contexts[i % 2], .dealer)
            try s.setRoutingID("idle-\(i)")
            try s.connect(endpoint)
            sockets.append(s)
        }
        let deadline = Date().addingTimeInterval(4)
        var heartbeatsReceived = 0
        for (i, s) in sockets.enumerated() {
            _ = try s.send(Wire.encode(.ready(Ready(workerID: "idle-\(i)", host: "h", cores: 1, version: "t"))))
        }
        while Date() < deadline {
            for s in sockets {
                _ = try s.send(Wire.encode(.heartbeat(Heartbeat())))
                while let frames = try s.receive() {
                    if case .success(.heartbeat) = Wire.decode(frames) { heartbeatsReceived += 1 }
                }
            }
            Thread.sleep(forTimeInterval: 0.3)
        }
        let status = try ClusterClient.status(endpoint: endpoint, timeoutSeconds: 10)
        let parsed = try #require(JSONSerialization.jsonObject(with: Data(status.utf8)) as? [String: Any])
        let workers = (parsed["coordinator"] as? [String: Any])?["workers"] as? Int
        #expect(workers == 1000)
        // The coordinator kept heartbeating all of them (about 1/s each).
        #expect(heartbeatsReceived >= 2000)
        let after = try #require(Harness.rssKiB(coordinator.pid))
        print("coordinator RSS: \(before) KiB idle, \(after) KiB with 1,000 connected idle workers")
        #expect(after - before < 150_000, "coordinator grew by \(after - before) KiB for 1,000 idle workers")
        sockets.forEach { $0.close() }
    }

    @Test(.enabled(if: Harness.networkNamespaces, "needs root, iproute2 and permission to create network namespaces"))
    func workersInAnotherNetworkNamespaceOverCURVE() throws {
        let tag = String(UUID().uuidString.prefix(6)).lowercased()
        let coordNS = "fswc-\(tag)", workNS = "fsww-\(tag)"
        let ip = "/usr/sbin/ip"
        let (rc, out) = Harness.sh(ip, ["netns", "add", coordNS])
        try #require(rc == 0, "cannot create a network namespace: \(out)")
        defer {
            Harness.sh(ip, ["netns", "del", coordNS])
            Harness.sh(ip, ["netns", "del", workNS])
        }
        // Two "hosts" joined by a veth pair, addresses from the documentation range (192.0.2.0/24).
        for args in [["netns", "add", workNS],
                     ["link", "add", "fc\(tag)", "type", "veth", "peer", "name", "fw\(tag)"],
                     ["link", "set", "fc\(tag)", "netns", coordNS], ["link", "set", "fw\(tag)", "netns", workNS],
                     ["-n", coordNS, "addr", "add", "192.0.2.1/24", "dev", "fc\(tag)"],
                     ["-n", workNS, "addr", "add", "192.0.2.2/24", "dev", "fw\(tag)"],
                     ["-n", coordNS, "link", "set", "fc\(tag)", "up"], ["-n", workNS, "link", "set", "fw\(tag)", "up"],
                     ["-n", coordNS, "link", "set", "lo", "up"], ["-n", workNS, "link", "set", "lo", "up"]] {
            let (status, text) = Harness.sh(ip, args)
            try #require(status == 0, "ip \(args.joined(separator: " ")) failed: \(text)")
        }
        let dir = try Harness.tempDir("netns")
        let spec = try Harness.spec(in: dir, name: "ns", trials: 3)
        for name in ["server", "worker"] { #expect(try Harness.Child(["keys", "generate", dir + "/" + name]).wait(10) == 0) }
        try FileManager.default.copyItem(atPath: dir + "/worker.pub", toPath: dir + "/authorized_keys")
        let endpoint = "tcp://192.0.2.1:5555"
        let log = dir + "/runs.log"
        // Without keys a non-loopback bind is refused.
        let refused = try Harness.Child(executable: ip, ["netns", "exec", coordNS, Harness.fsweep, "coordinator", spec,
                                                         "--bind", endpoint, "--results", dir])
        #expect(refused.wait(20).map { $0 != 0 } == true)
        let coordinator = try Harness.Child(executable: ip, ["netns", "exec", coordNS, Harness.fsweep, "coordinator", spec,
                                                             "--bind", endpoint, "--results", dir, "--heartbeat", "0.2",
                                                             "--curve-secret", dir + "/server.key", "--authorized-keys", dir + "/authorized_keys"])
        defer { coordinator.kill9() }
        var workers: [Harness.Child] = []
        defer { workers.forEach { $0.kill9() } }
        for i in 0..<2 {
            workers.append(try Harness.Child(executable: ip, ["netns", "exec", workNS, Harness.fsweep, "worker", "--connect", endpoint,
                                                              "--id", "ns-\(i)", "--outbox", dir + "/ob-\(i)", "--heartbeat", "0.2",
                                                              "--curve-server-key", dir + "/server.pub", "--curve-secret", dir + "/worker.key",
                                                              "--runner-command", Harness.runner(log: log, sleep: 0.2)]))
        }
        #expect(coordinator.wait(60) == 0, "coordinator log:\n\(coordinator.log)")
        for w in workers { #expect(w.wait(10) == 0) }
        #expect(try Harness.counts(dir + "/ns").done == 3)
        #expect(coordinator.log.contains("authenticated worker key"))
        #expect(coordinator.log.contains("192.0.2.2"))
    }
}
}
