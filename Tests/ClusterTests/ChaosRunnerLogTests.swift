import Foundation
import Trials
import Testing
@testable import Cluster

@Suite struct ChaosRunnerLogTests {
    @Test func theRunnerLogsItsExecutionAndPrintsItsPidInTheResult() throws {
        let dir = try Harness.tempDir("chaoslog")
        let log = dir + "/runner.log"
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/sh")
        shell.arguments = ["-c", ChaosRunnerLog.command(log: log, sleep: 0...0.02)]
        shell.environment = ["FSWEEP_TRIAL_ID": "abc123", "PATH": "/usr/bin:/bin"]
        let out = Pipe()
        shell.standardOutput = out
        shell.standardInput = FileHandle.nullDevice
        try shell.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        shell.waitUntilExit()
        #expect(shell.terminationStatus == 0)
        let result = try #require(text.split(separator: "\n").last)
        let metrics = try #require((try JSONSerialization.jsonObject(with: Data(result.utf8)) as? [String: Any])?["metrics"] as? [String: Double])
        let runs = ChaosRunnerLog.executions(atPath: log)
        #expect(runs == [ChaosRunnerLog.Execution(trialID: "abc123", pid: shell.processIdentifier, workerPID: getpid(), ended: true, line: 0)])
        #expect(metrics["runner_pid"] == Double(shell.processIdentifier))
    }

    @Test func executionsPairStartsWithTheirEndsByPid() {
        let log = """
            start a 10 1
            start b 11 2
            end b 11
            end a 99
            garbage line
            end a 10
            start c 12 1
            start a 10 3
            """
        #expect(ChaosRunnerLog.executions(log) == [
            .init(trialID: "a", pid: 10, workerPID: 1, ended: true, line: 0),
            .init(trialID: "b", pid: 11, workerPID: 2, ended: true, line: 1),
            .init(trialID: "c", pid: 12, workerPID: 1, ended: false, line: 6),
            .init(trialID: "a", pid: 10, workerPID: 3, ended: false, line: 7),  // a reused pid starts a new execution
        ])
    }
}
