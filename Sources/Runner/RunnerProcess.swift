import Foundation
import Sweeps
import CMachine
import Trials

/// A runner command as a child process: `/bin/sh -c COMMAND` spawned as the leader of a process group of its
/// own (so the whole group can be signalled), with default signal handling restored (the worker ignores
/// SIGINT/SIGTERM itself), stdin fed from `input`, stdout parsed line by line, the tail of stderr kept.
/// Spawned and reaped here rather than through Foundation's `Process`, which reports a child as running for as
/// long as anything it started keeps its output pipes open.
final class RunnerProcess: Sendable {
    private let pid: pid_t
    private let readers = DispatchGroup()
    private let errTail = Locked(Data())
    private let exit = Locked<Int32?>(nil)

    /// Starts the command; `onLine` gets every stdout line that parses as a runner JSON object.
    init(command: String, environment: [String: String], input: Data, onLine: @escaping @Sendable (RunnerLine) -> Void) throws {
        let stdin = try RunnerProcess.pipe(command), stdout = try RunnerProcess.pipe(command)
        let stderr = try RunnerProcess.pipe(command)
        defer { [stdin.read, stdout.write, stderr.write].forEach { _ = close($0) } }  // the child's ends
        pid = try RunnerProcess.spawn(["/bin/sh", "-c", command], environment: environment,
                                      fds: [stdin.read, stdout.write, stderr.write], command: command)
        // Feed stdin on its own thread so a command that reads late cannot deadlock us.
        let feed = FileHandle(fileDescriptor: stdin.write, closeOnDealloc: true)
        Thread.detachNewThread {
            feed.write(input)
            try? feed.close()
        }
        read(FileHandle(fileDescriptor: stdout.read, closeOnDealloc: true)) { line in
            if let parsed = try? JSONDecoder().decode(RunnerLine.self, from: line) { onLine(parsed) }
        }
        let tail = errTail
        read(FileHandle(fileDescriptor: stderr.read, closeOnDealloc: true), lines: false) { chunk in
            tail.withLock { t in
                t.append(chunk)
                if t.count > 4096 { t = t.suffix(4096) }
            }
        }
    }

    private static func pipe(_ command: String) throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [0, 0]
        let rc = fs_pipe_cloexec(&fds)
        guard rc == 0 else { throw startFailure(command, rc) }
        return (fds[0], fds[1])
    }

    private static func spawn(_ argv: [String], environment: [String: String], fds: [Int32], command: String) throws -> pid_t {
        let cArgs = argv.map { strdup($0) } + [nil]
        let cEnv = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (cArgs + cEnv).forEach { free($0) } }
        var pid: pid_t = 0
        let rc = fs_spawn_group(cArgs, cEnv, fds[0], fds[1], fds[2], &pid)
        guard rc == 0 else { throw startFailure(command, rc) }
        return pid
    }

    private static func startFailure(_ command: String, _ errno: Int32) -> TrialFailure {
        TrialFailure(reason: "cannot start external runner '\(command)': \(String(cString: strerror(errno)))", retryable: false)
    }

    /// Reads `handle` to its end on a thread of its own, handing over lines (or raw chunks).
    private func read(_ handle: FileHandle, lines: Bool = true, _ body: @escaping @Sendable (Data) -> Void) {
        readers.enter()
        let done = readers
        Thread.detachNewThread {
            var buffer = Data()
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                guard lines else { body(chunk); continue }
                buffer.append(chunk)
                while let nl = buffer.firstIndex(of: 0x0A) {
                    body(buffer[buffer.startIndex..<nl])
                    buffer.removeSubrange(buffer.startIndex...nl)
                }
            }
            if lines && !buffer.isEmpty { body(buffer) }
            done.leave()
        }
    }

    /// Waits for the command to exit, stopping its group when `isCancelled` says so (SIGTERM, then SIGKILL
    /// after `killGrace`); afterwards kills anything the command left running in its group. Returns whether
    /// the run was cancelled.
    func waitForExit(isCancelled: () -> Bool, killGrace: Double) -> Bool {
        var cancelledAt: Date?
        var status: Int32 = 0
        while waitpid(pid, &status, WNOHANG) == 0 {
            if cancelledAt == nil && isCancelled() {
                cancelledAt = Date()
                kill(-pid, SIGTERM)
            } else if let c = cancelledAt, Date().timeIntervalSince(c) > killGrace {
                kill(-pid, SIGKILL)
            }
            usleep(20_000)
        }
        exit.withLock { $0 = status }
        kill(-pid, SIGKILL)
        _ = readers.wait(timeout: .now() + 5)
        return cancelledAt != nil
    }

    /// Whether the command was ended by a signal.
    var signalled: Bool { let s = exit.current ?? 0; return s & 0x7f != 0 && s & 0x7f != 0x7f }
    /// Exit status, or the signal number when `signalled`.
    var status: Int32 { let s = exit.current ?? 0; return signalled ? s & 0x7f : (s >> 8) & 0xff }
    var stderrTail: String {
        String(decoding: errTail.withLock { $0 }, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
