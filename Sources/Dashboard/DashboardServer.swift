import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Trials

/// The read-only web dashboard (`fsweep serve`, `fsweep run --dashboard`): HTML pages, the JSON API and a
/// live event stream over the sweeps under a results root. It only ever opens stores read-only.
public struct DashboardServer: Sendable {
    public let reader: DashboardReader
    public let access: DashboardAccess
    public let host: String
    public let port: Int
    /// How often a live stream polls the store.
    public var pollInterval: Duration = .seconds(1)

    /// A server for the sweeps under `root`, bound to `bind` (`HOST:PORT`, `[::1]:PORT`, or `PORT`); off
    /// loopback it requires `token`, or a generated one.
    public init(root: URL, bind: String, token: String? = nil) throws {
        let (host, port) = try DashboardServer.parseBind(bind)
        self.reader = DashboardReader(root: root)
        self.host = host
        self.port = port
        self.access = DashboardAccess.forHost(host, token: token)
    }

    /// `HOST:PORT` → (host, port); a bare port binds loopback.
    public static func parseBind(_ text: String) throws -> (host: String, port: Int) {
        let bad = DashboardError(.badRequest, "--bind \(text): expected HOST:PORT (e.g. 127.0.0.1:8080 or 0.0.0.0:8080)")
        if let p = Int(text) { guard (0...65535).contains(p) else { throw bad }; return ("127.0.0.1", p) }
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else { throw bad }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { throw bad }
        return (host, port)
    }

    /// The address to open, with the token when one is required (printed once at start, like Jupyter's).
    public func url(port actualPort: Int) -> String {
        // A wildcard bind is reached by the machine's name, as Jupyter prints it.
        let name = ["0.0.0.0", "::"].contains(host) ? ProcessInfo.processInfo.hostName : host
        let shownHost = name.contains(":") ? "[\(name)]" : name
        return "http://\(shownHost):\(actualPort)/" + (access.token.map { "?token=\($0)" } ?? "")
    }

    /// Serves until cancelled (or, with `signals`, until SIGINT/SIGTERM); `onReady` gets the bound port.
    public func run(signals: Bool = false, onReady: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        var logger = Logger(label: "fsweep.dashboard")
        logger.logLevel = .critical  // shutdown logs cancellations as errors; real failures are thrown
        let app = Application(
            router: makeRouter(),
            configuration: .init(address: .hostname(host, port: port), serverName: "fsweep"),
            onServerRunning: { channel in await onReady(channel.localAddress?.port ?? port) },
            logger: logger)
        do { try await app.runService(gracefulShutdownSignals: signals ? [.sigterm, .sigint] : []) }
        catch let e as CancellationError { throw e }
        catch { throw DashboardError(.bind, "dashboard on \(host):\(port): \(error)") }
    }

    /// Starts the server on a background task for a command that runs a sweep (`--dashboard`), printing its
    /// address to stderr; the server lives as long as the process.
    public func startInBackground() {
        let server = self
        Task.detached {
            do {
                try await server.run(onReady: { port in
                    FileHandle.standardError.write(Data("dashboard: \(server.url(port: port))\n".utf8))
                })
            } catch {
                FileHandle.standardError.write(Data("dashboard: \(error); the sweep goes on without it\n".utf8))
            }
        }
    }
}

/// Runs a blocking store read off the async pool, so a slow disk never stalls the server's threads.
func offload<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
    }
}

extension DashboardServer {
    /// Runs `body` to completion from synchronous code (the `serve` command), rethrowing its error.
    public static func block(_ body: @escaping @Sendable () async throws -> Void) throws {
        let done = DispatchSemaphore(value: 0)
        let failure = Locked<(any Error)?>(nil)
        Task.detached {
            do { try await body() } catch { failure.withLock { $0 = error } }
            done.signal()
        }
        done.wait()
        if let error = failure.current { throw error }
    }
}
