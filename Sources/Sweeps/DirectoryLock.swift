import Foundation

/// The one-writer rule of a results directory: an exclusive `flock` on `<dir>/coordinator.lock`, taken before
/// anything in the store changes and held until the process exits (the kernel drops it when the process dies,
/// even on `kill -9`, so a stale lock never blocks a restart). A second coordinator on the same directory
/// fails at once, names the holder and changes nothing. Readers (`status`, `aggregate`) never take it.
///
/// Sendable: the descriptor is immutable and only closed in `deinit`.
public final class DirectoryLock: Sendable {
    /// The locked results directory.
    public let directory: URL
    private let fd: Int32

    public static let fileName = "coordinator.lock"

    /// Creates the directory if needed and takes the lock without waiting; throws `SweepError(.locked)`
    /// naming the holder (pid, host, start time, command) when another process has it.
    public init(directory: URL, purpose: String = CommandLine.arguments.joined(separator: " ")) throws {
        do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) }
        catch { throw SweepError(.io, "\(directory.path): cannot create the results directory", cause: SendableDescription(error)) }
        let path = directory.appendingPathComponent(Self.fileName).path
        // O_CLOEXEC: worker processes started by `fsweep run` must not inherit (and outlive us holding) the lock.
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw SweepError(.io, "\(path): cannot open the lock file: \(String(cString: strerror(errno)))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = Self.describeHolder(fd: fd)
            close(fd)
            throw SweepError(.locked, "\(directory.path) is in use by another coordinator (\(holder)); "
                + "stop it first, or use another --results directory. Read-only commands (status, aggregate) work beside it.")
        }
        self.directory = directory
        self.fd = fd
        let host = ProcessInfo.processInfo.hostName
        let stamp = ISO8601DateFormatter().string(from: Date())
        let text = "pid \(getpid()) on \(host) since \(stamp): \(purpose.prefix(300))\n"
        _ = ftruncate(fd, 0)
        _ = text.withCString { pwrite(fd, $0, strlen($0), 0) }
    }

    deinit { close(fd) }

    private static func describeHolder(fd: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 512)
        let n = pread(fd, &buffer, buffer.count, 0)
        let text = n > 0 ? String(decoding: buffer.prefix(n), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : ""
        return text.isEmpty ? "holder unknown" : text
    }
}
