import Foundation
import Logging
import Sweeps
import Trials

/// CURVE settings of a worker: the coordinator's public key and the worker's own pair.
public struct WorkerCurve: Sendable {
    public var serverPublicKey: String
    public var keys: CurveKeyPair
    public init(serverPublicKey: String, keys: CurveKeyPair) {
        self.serverPublicKey = serverPublicKey
        self.keys = keys
    }
}

/// The worker's socket shell: the calling thread owns the DEALER and runs the `zmq_poll` loop; each
/// trial runs on its own training thread (`TrialThread`), which reports back through a locked event queue.
/// Every decision — including how to stop — is the `Worker` state machine's.
public final class WorkerNode: Sendable {
    public let endpoint: String
    public let settings: WorkerSettings
    private let runner: any TrialRunner
    private let outbox: Outbox
    private let curve: WorkerCurve?
    private let logger: Logger
    private let trials: TrialThread
    private let stopFlag = Locked<Int32?>(nil)

    public init(endpoint: String, settings: WorkerSettings, runner: any TrialRunner, outbox: Outbox,
                curve: WorkerCurve? = nil, logger: Logger) {
        self.endpoint = endpoint
        self.settings = settings
        self.runner = runner
        self.outbox = outbox
        self.curve = curve
        self.logger = logger
        trials = TrialThread()
    }

    /// Asks the worker to leave (SIGINT/SIGTERM): its trial is cancelled and stopped, the coordinator told.
    public func requestStop(code: Int32 = 130) { stopFlag.withLock { $0 = $0 ?? code } }

    /// Runs until the coordinator says the sweep is done, `--max-trials` is reached or a stop is
    /// requested; returns the exit code. Call it on a dedicated thread (it blocks in `zmq_poll`).
    /// Many in-process workers (benchmarks) may share one `context`.
    public func run(context shared: ZMQContext? = nil) throws -> Int32 {
        let context = try shared ?? ZMQContext()
        let loaded = outbox.load()
        for bad in loaded.unreadable { logger.warning("skipping unreadable outbox file \(bad)") }
        if !loaded.entries.isEmpty { logger.info("outbox holds \(loaded.entries.count) unacknowledged result(s); will send them again") }
        var core = Worker(settings: settings, outbox: loaded.entries, now: Date())
        var socket = try connect(context)
        var stopSeen = false
        var markerChecked = Date.distantPast
        var directives = core.onStart(now: Date())
        while true {
            if let marker = settings.finishedMarker, Date().timeIntervalSince(markerChecked) >= 1 {
                markerChecked = Date()
                if FileManager.default.fileExists(atPath: marker) { directives += core.onSweepMarkedFinished(now: markerChecked) }
            }
            if let code = try perform(&directives, &socket, context) { return code }
            let readable = try ZMQSocket.poll([socket], fds: [trials.wakeFD], timeoutMs: 50)
            if readable.count > 1 && readable[1] { trials.drainWake() }
            let now = Date()
            if readable[0] {
                while let frames = (try? socket.receive()) ?? nil {
                    switch Wire.decode(frames) {
                    case .success(let message): directives += core.onMessage(message, now: now)
                    case .failure(let error): directives.append(.log(.warning, "dropped message from coordinator: \(error.message)"))
                    }
                }
            }
            directives += trials.events(into: &core, now: now)
            if !stopSeen, let code = stopRequest() {
                stopSeen = true
                directives += core.onStopRequested(code: code, reason: code == 130 ? "stop requested" : "parent process is gone", now: now)
            }
            directives += core.onTick(progress: trials.progress, now: now)
        }
    }

    private func stopRequest() -> Int32? {
        if let code = stopFlag.current { return code }
        if let parent = settings.parentPID, getppid() != parent { return 130 }
        return nil
    }

    /// Performs directives in order; returns the exit code when the worker leaves.
    private func perform(_ directives: inout [Worker.Directive], _ socket: inout ZMQSocket, _ context: ZMQContext) throws -> Int32? {
        defer { directives.removeAll() }
        for d in directives {
            switch d {
            case .send(let message):
                do { _ = try socket.send(Wire.encode(message)) } catch { logger.warning("send failed: \(error)") }
            case .reconnect:
                socket.close()
                socket = try connect(context)
            case .startTrial(let lease):
                trials.start(lease, runner: runner)
            case .cancelTrial(let id):
                trials.cancel(id)
            case .persist(let entry):
                do { try outbox.persist(entry) } catch { logger.error("\(error)") }
            case .unpersist(let id):
                outbox.remove(id)
            case .log(let level, let text):
                logger.log(level: level, "\(text)")
            case .exit(let code):
                try? socket.setLinger(milliseconds: 500)
                socket.close()
                return code
            }
        }
        return nil
    }

    private func connect(_ context: ZMQContext) throws -> ZMQSocket {
        let socket = try ZMQSocket(context, .dealer)
        try socket.setRoutingID(settings.workerID)
        try socket.setHighWaterMarks(send: 1000, receive: 1000)
        try socket.setMaxMessageSize(Int64(Wire.maxFrameBytes))
        if let curve {
            try socket.makeCurveClient(serverKey: curve.serverPublicKey, publicKey: curve.keys.publicKey, secretKey: curve.keys.secretKey)
        }
        try socket.connect(endpoint)
        return socket
    }
}
