import Foundation
import Logging
import Sweeps
import Trials

/// The `fsweep worker` child processes of `fsweep run` (this same binary), supervised: a worker that dies
/// abnormally is started again with the same id and outbox (so its unacknowledged results are re-sent), up
/// to `maxRestarts` times per slot; after that the run gives up with the reason instead of waiting forever.
public final class LocalWorkers: Sendable {
    private struct Slot {
        var id: String
        var process: Process
        var restarts: Int
    }

    private let slots: Locked<[Slot]>
    private let launch: @Sendable (String) throws -> Process
    private let logger: Logger
    /// Restarts allowed per worker slot.
    public let maxRestarts: Int

    /// Starts `count` workers connecting to `endpoint`; each gets a stable id and outbox under `outboxRoot`,
    /// and with `gpus` the device `LocalWorkers.gpu(forSlot:of:)` picks (`--gpu`: its CUDA_VISIBLE_DEVICES).
    public init(count: Int, endpoint: String, executable: String = LocalWorkers.selfExecutable(),
                outboxRoot: String, extraArguments: [String], gpus: [String] = [], maxRestarts: Int = 3, logger: Logger) throws {
        let parent = getpid()
        launch = { id in
            let slot = Int(id.split(separator: "-").last ?? "") ?? 0
            let gpu = LocalWorkers.gpu(forSlot: slot, of: gpus).map { ["--gpu", $0] } ?? []
            let p = Process()
            p.executableURL = URL(fileURLWithPath: executable)
            p.arguments = ["worker", "--connect", endpoint, "--id", id,
                           "--outbox", (outboxRoot as NSString).appendingPathComponent(id),
                           "--parent-pid", "\(parent)"] + gpu + extraArguments
            p.standardInput = FileHandle.nullDevice
            do { try p.run() } catch {
                throw ClusterError(code: "spawn", message: "could not start worker process \(executable)", cause: "\(error)")
            }
            return p
        }
        self.logger = logger
        self.maxRestarts = maxRestarts
        var list: [Slot] = []
        do {
            for i in 0..<count {
                let id = "local-\(i)"
                list.append(Slot(id: id, process: try launch(id), restarts: 0))
                logger.debug("started worker \(id) (pid \(list[i].process.processIdentifier))")
            }
        } catch {
            list.forEach { $0.process.terminate() }
            throw error
        }
        slots = Locked(list)
    }

    /// The GPU of worker `slot`: the devices in turn (more workers than GPUs share them round-robin); nil
    /// without GPUs.
    public static func gpu(forSlot slot: Int, of gpus: [String]) -> String? {
        gpus.isEmpty ? nil : gpus[slot % gpus.count]
    }

    /// Path of the running executable (`/proc/self/exe` on Linux).
    public static func selfExecutable() -> String {
        if let resolved = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return resolved }
        return CommandLine.arguments[0]
    }

    /// Number of workers still running.
    public var alive: Int { slots.current.filter(\.process.isRunning).count }

    /// Restarts workers that died abnormally (a clean exit — sweep done, `--max-trials` — is left alone).
    /// Returns why the run should give up, when a slot used up its restarts.
    public func superviseOnce() -> String? {
        slots.withLock { list -> String? in
            for i in list.indices where !list[i].process.isRunning {
                let p = list[i].process
                let clean = p.terminationReason == .exit && p.terminationStatus == 0
                guard !clean else { continue }
                let how = p.terminationReason == .uncaughtSignal ? "killed by signal \(p.terminationStatus)" : "exit status \(p.terminationStatus)"
                guard list[i].restarts < maxRestarts else {
                    return "local worker \(list[i].id) died \(list[i].restarts + 1) times (last: \(how)); giving up"
                }
                do {
                    list[i].process = try launch(list[i].id)
                    list[i].restarts += 1
                    logger.warning("local worker \(list[i].id) died (\(how)); restarted it (\(list[i].restarts) of \(maxRestarts))")
                } catch {
                    return "could not restart local worker \(list[i].id): \(error)"
                }
            }
            return nil
        }
    }

    /// Waits up to `seconds` for the workers to exit by themselves, then stops the rest (SIGTERM: they
    /// cancel their trials, which stops the runners' processes too) and waits for them.
    public func finish(within seconds: Double) {
        let deadline = Date().addingTimeInterval(seconds)
        let processes = slots.current.map(\.process)
        for p in processes {
            while p.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        }
        for p in processes where p.isRunning { p.terminate() }
        for p in processes { p.waitUntilExit() }
    }
}
