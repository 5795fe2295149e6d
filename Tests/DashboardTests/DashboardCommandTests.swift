import Foundation
import TestSupport
import Testing
import Trials

/// `fsweep run --dashboard 127.0.0.1:0`: the command prints the dashboard's address and serves the running
/// sweep's status while its trial is held by a shell runner.
@Suite struct DashboardCommandTests {
    @Test func runServesTheDashboardWhileTheSweepRuns() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fsweep-dash-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let release = dir.appendingPathComponent("release").path
        try Data("""
            #!/bin/sh
            cat > /dev/null
            echo '{"progress": {"epoch": 1, "epochs": 2, "metrics": {"train_loss": 1.5}}}'
            n=0; while [ ! -e "\(release)" ] && [ $n -lt 300 ]; do sleep 0.1; n=$((n + 1)); done
            echo '{"metrics": {"test_accuracy": 0.5}}'
            """.utf8).write(to: dir.appendingPathComponent("runner.sh"))
        try Data("""
            version: 1
            name: dashrun
            fixed:
              dataset: {name: synthetic, image_size: 16, train_size: 100, test_size: 50}
              model: {arch: convactually, width: 8, activation: relu, depth: 1}
              train: {epochs: 2, batch_size: 32, lr: 0.01}
            grid:
              train.weight_decay: [0.0, 0.01]
            seeds: [0]
            runner: {max_attempts: 1}
            """.utf8).write(to: dir.appendingPathComponent("dashrun.yaml"))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: fsweepBinary())
        process.arguments = ["run", dir.appendingPathComponent("dashrun.yaml").path, "--results", dir.appendingPathComponent("results").path,
                             "--quiet", "--dashboard", "127.0.0.1:0", "--runner-command", "sh \(dir.path)/runner.sh"]
        let stderr = Pipe()
        process.standardError = stderr
        process.standardOutput = FileHandle.nullDevice
        let seen = Locked(""), found = DispatchSemaphore(value: 0)
        stderr.fileHandleForReading.readabilityHandler = { handle in
            let chunk = String(decoding: handle.availableData, as: UTF8.self)
            if seen.withLock({ $0 += chunk; return $0.contains("dashboard: http://") && $0.hasSuffix("\n") }) { found.signal() }
        }
        try process.run()
        defer { FileManager.default.createFile(atPath: release, contents: nil) }
        let ready = try await blocking { found.wait(timeout: .now() + 60) == .success }
        #expect(ready, "no dashboard address: \(seen.current)")
        let line = try #require(seen.current.split(separator: "\n").first { $0.hasPrefix("dashboard: http://127.0.0.1:") })
        let port = try #require(Int(line.split(separator: ":").last?.filter(\.isNumber) ?? ""))
        let reply = try await HTTPClient(port: port).get("/api/sweeps/dashrun/status")
        #expect(reply.status == 200)
        let status = try #require(try JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [String: Any])
        #expect(status["name"] as? String == "dashrun")
        #expect((status["counts"] as? [String: Int]).map { $0.values.reduce(0, +) } == 2)
        FileManager.default.createFile(atPath: release, contents: nil)
        try await blocking { process.waitUntilExit() }
        #expect(process.terminationStatus == 0)
    }
}
