import Foundation
import Logging

/// Spawns `fsweep worker` child processes of this same binary (`/proc/self/exe`) for `fsweep run`.
public final class LocalWorkers: Sendable {
    private let processes: Locked<[Process]>

    /// Starts `count` workers connecting to `endpoint`; each gets a stable id and outbox under `outboxRoot`
    /// so a re-run finds and re-sends results a killed worker left behind.
    public init(count: Int, endpoint: String, executable: String = LocalWorkers.selfExecutable(),
                outboxRoot: String, extraArguments: [String], logger: Logger) throws {
        var list: [Process] = []
        for i in 0..<count {
            let id = "local-\(i)"
            let p = Process()
            p.executableURL = URL(fileURLWithPath: executable)
            p.arguments = ["worker", "--connect", endpoint, "--id", id,
                           "--outbox", (outboxRoot as NSString).appendingPathComponent(id),
                           "--parent-pid", "\(getpid())"] + extraArguments
            p.standardInput = FileHandle.nullDevice
            do { try p.run() } catch {
                list.forEach { $0.terminate() }
                throw ClusterError(code: "spawn", message: "could not start worker process \(executable)", cause: "\(error)")
            }
            logger.debug("started worker \(id) (pid \(p.processIdentifier))")
            list.append(p)
        }
        processes = Locked(list)
    }

    /// Path of the running executable (`/proc/self/exe` on Linux).
    public static func selfExecutable() -> String {
        if let resolved = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return resolved }
        return CommandLine.arguments[0]
    }

    /// Number of workers still running.
    public var alive: Int { processes.current.filter(\.isRunning).count }

    /// Waits up to `seconds` for the workers to exit by themselves, then terminates the rest.
    public func finish(within seconds: Double) {
        let deadline = Date().addingTimeInterval(seconds)
        while alive > 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        for p in processes.current where p.isRunning { p.terminate() }
        for p in processes.current { p.waitUntilExit() }
    }
}
