import Foundation
import Trials

/// A child process of the fault benchmark, spawned with `posix_spawn` and reaped with `wait4`, so its exit
/// status and peak resident memory (`ru_maxrss`, the kernel's VmHWM at exit) are known exactly, even after
/// `kill -9`. stdout and stderr go to `logFile` (appended), stdin is /dev/null.
final class ChaosChild {
    let pid: pid_t
    let label: String
    let logFile: String
    /// Set once the child has been reaped.
    private(set) var exit: Exit?

    /// How a child ended.
    struct Exit: Sendable, Equatable {
        /// Exit status, when it exited.
        var status: Int32?
        /// Terminating signal, when one killed it.
        var signal: Int32?
        /// Peak resident memory in KiB.
        var maxRSSKiB: Int

        var description: String { status.map { "exit status \($0)" } ?? "signal \(signal ?? 0)" }
    }

    init(executable: String, arguments: [String], logFile: String, label: String) throws {
        self.label = label
        self.logFile = logFile
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logFile, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Default dispositions and an empty mask: the child handles SIGINT/SIGTERM as it would from a shell.
        var defaults = sigset_t(), empty = sigset_t()
        sigemptyset(&defaults)
        sigemptyset(&empty)
        for s in [SIGINT, SIGTERM, SIGPIPE, SIGCHLD] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = ProcessInfo.processInfo.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var child: pid_t = 0
        let rc = posix_spawn(&child, executable, &actions, &attributes, argv, envp)
        guard rc == 0 else {
            throw ClusterError(code: "spawn", message: "could not start \(label) (\(executable))", cause: String(cString: strerror(rc)))
        }
        pid = child
    }

    /// Reaps the child if it has ended, without waiting.
    @discardableResult
    func poll() -> Exit? {
        if exit == nil { reap(options: WNOHANG) }
        return exit
    }

    /// Sends SIGKILL and reaps the child (immediate: SIGKILL cannot be caught).
    @discardableResult
    func kill9() -> Exit {
        if exit == nil { kill(pid, SIGKILL) }
        return waitForExit()
    }

    /// Blocks until the child has ended (used after SIGKILL, or for a child known to be exiting).
    func waitForExit() -> Exit {
        while exit == nil { reap(options: 0) }
        return exit ?? Exit(status: nil, signal: nil, maxRSSKiB: 0)
    }

    private func reap(options: Int32) {
        var status: Int32 = 0
        var usage = rusage()
        let rc = wait4(pid, &status, options, &usage)
        if rc == pid {
            let signalled = (status & 0x7f) != 0
            exit = Exit(status: signalled ? nil : (status >> 8) & 0xff, signal: signalled ? status & 0x7f : nil,
                        maxRSSKiB: Int(usage.ru_maxrss))
        } else if rc < 0 && errno != EINTR {
            // Not our child any more (reaped elsewhere): it is gone, its figures are unknown.
            exit = Exit(status: nil, signal: nil, maxRSSKiB: 0)
        }
    }

    /// The child's resident high-water mark so far (VmHWM in /proc/PID/status), in KiB.
    var highWaterKiB: Int? { exit == nil ? ProcTable.highWaterKiB(pid) : nil }
}

/// The few /proc reads the fault benchmark needs.
enum ProcTable {
    /// VmHWM of `pid` in KiB.
    static func highWaterKiB(_ pid: pid_t) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        }
        return nil
    }

    /// Direct children of `parent` with their process groups, from /proc/*/stat.
    static func children(of parent: pid_t) -> [(pid: pid_t, group: pid_t)] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        var out: [(pid_t, pid_t)] = []
        for name in entries {
            guard let pid = pid_t(name), let stat = try? String(contentsOfFile: "/proc/\(name)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            // After "pid (comm)": state ppid pgrp …
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 2, let ppid = pid_t(fields[1]), let group = pid_t(fields[2]), ppid == parent else { continue }
            out.append((pid, group))
        }
        return out
    }
}
