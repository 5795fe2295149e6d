import Foundation
import Testing
@testable import Cluster
import Sweeps
import TestSupport

/// Real-process test harness: the `fsweep` binary built next to the test bundle, temp dirs, bounded waits.
enum Harness {
    /// The `fsweep` binary built with the tests.
    static var fsweep: String { fsweepBinary() }

    static func tempDir(_ label: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fsweep-\(label)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.path
    }

    /// A sweep of `trials` seeds named `name`, written to DIR/spec.yaml.
    static func spec(in dir: String, name: String, trials: Int, maxAttempts: Int = 3, timeLimit: String? = nil) throws -> String {
        let yaml = SweepSpec.tinyYAML(name: name, trials: trials, maxAttempts: maxAttempts, epochs: 2, timeLimit: timeLimit)
        let path = (dir as NSString).appendingPathComponent("spec.yaml")
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// A runner command that records each start (pid) and completion per trial in `log`, sleeping `sleep` s.
    static func runner(log: String, sleep: Double) -> String {
        "echo \"start $FSWEEP_TRIAL_ID $$\" >> \(log); sleep \(sleep); cat >/dev/null; "
            + "echo '{\"progress\":{\"epoch\":1,\"epochs\":1,\"metrics\":{\"loss\":0.5}}}'; "
            + "echo \"end $FSWEEP_TRIAL_ID\" >> \(log); echo '{\"metrics\":{\"test_accuracy\":0.5}}'"
    }

    /// A free loopback TCP port (bound and released through ZeroMQ's wildcard port).
    static func freePort() throws -> Int {
        let context = try ZMQContext()
        let s = try ZMQSocket(context, .router)
        try s.bind("tcp://127.0.0.1:*")
        let endpoint = try s.lastEndpoint()
        s.close()
        return Int(endpoint.split(separator: ":").last ?? "") ?? 0
    }

    /// A child process with captured stderr.
    final class Child: @unchecked Sendable {
        // Safe: `output` is only touched under `lock`; the Process is used from the test thread.
        let process = Process()
        private let lock = NSLock()
        private var output = Data()
        private let outputClosed = DispatchSemaphore(value: 0)

        convenience init(_ arguments: [String], cwd: String? = nil) throws {
            try self.init(executable: Harness.fsweep, arguments, cwd: cwd)
        }

        init(executable: String, _ arguments: [String], cwd: String? = nil) throws {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            if let cwd { process.currentDirectoryURL = URL(fileURLWithPath: cwd) }
            let pipe = Pipe()
            process.standardError = pipe
            process.standardOutput = pipe
            process.standardInput = FileHandle.nullDevice
            let closed = outputClosed
            pipe.fileHandleForReading.readabilityHandler = { [weak self] h in
                let d = h.availableData
                guard !d.isEmpty else { h.readabilityHandler = nil; closed.signal(); return }
                guard let self else { return }
                self.lock.lock(); self.output.append(d); self.lock.unlock()
            }
            try process.run()
        }

        var log: String { lock.lock(); defer { lock.unlock() }; return String(decoding: output, as: UTF8.self) }
        var pid: Int32 { process.processIdentifier }
        func kill9() { if process.isRunning { kill(process.processIdentifier, SIGKILL) }; process.waitUntilExit() }
        func stop() { if process.isRunning { process.terminate() } }

        /// Waits up to `seconds` for exit; returns the status or nil on timeout (then kills the process).
        func wait(_ seconds: Double) -> Int32? {
            let deadline = Date().addingTimeInterval(seconds)
            while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            if process.isRunning { kill9(); return nil }
            process.waitUntilExit()
            if outputClosed.wait(timeout: .now() + 2) == .success { outputClosed.signal() }  // all output read
            return process.terminationStatus
        }
    }

    /// Polls `condition` every 50 ms for up to `seconds`.
    static func eventually(_ seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return try condition()
    }

    static func lines(_ path: String) -> [String] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    static func counts(_ dir: String) throws -> SweepStore.Counts {
        try store(dir).counts()
    }

    /// The sweep's store, read-only.
    static func store(_ dir: String) throws -> SweepStore {
        try SweepStore.open(directory: URL(fileURLWithPath: dir))
    }

    /// SIGKILL to a runner process left behind by a killed worker (never to pid 0 or below: that would be a group).
    static func killOrphan(_ pid: Int32) {
        precondition(pid > 1, "refusing to signal process group \(pid)")
        kill(pid, SIGKILL)
    }
}

extension Harness {
    /// Whether this machine lets the tests create network namespaces (root and iproute2), probed once.
    static let networkNamespaces: Bool = {
        let ip = "/usr/sbin/ip", name = "fswprobe-\(getpid())"
        guard geteuid() == 0, FileManager.default.isExecutableFile(atPath: ip) else { return false }
        guard sh(ip, ["netns", "add", name]).0 == 0 else { return false }
        sh(ip, ["netns", "del", name])
        return true
    }()

    /// Whether `unshare -rm` can make a private mount namespace (for read-only filesystem tests), probed once.
    static let mountNamespaces: Bool = {
        FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare") && sh("/usr/bin/unshare", ["-rm", "true"]).0 == 0
    }()

    /// Runs a command to completion (bounded); returns exit status and output.
    @discardableResult
    static func sh(_ executable: String, _ args: [String], timeout: Double = 20) -> (Int32?, String) {
        guard let c = try? Child(executable: executable, args) else { return (nil, "cannot start \(executable)") }
        let status = c.wait(timeout)
        return (status, c.log)
    }

    /// Raises the open-file soft limit to the hard limit (children inherit it).
    static func raiseFileLimit() {
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 {
            limit.rlim_cur = limit.rlim_max
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
    }

    /// Resident memory of a process in KiB, from /proc.
    static func rssKiB(_ pid: Int32) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        }
        return nil
    }
}
