import Foundation
import Logging

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
/// trial runs on its own training thread, which reports back through a locked event queue.
public final class WorkerNode: Sendable {
    public let endpoint: String
    public let settings: WorkerSettings
    private let executor: any TrialExecutor
    private let outbox: Outbox
    private let curve: WorkerCurve?
    private let logger: Logger

    private enum TrialEvent: Sendable {
        case epoch(String, Int, Int, [String: Double])
        case finished(String, TrialOutcome)
    }

    private let events = Locked<[TrialEvent]>([])
    private let progressCounter = Locked(0)
    private let cancelled = Locked<Set<String>>([])
    private let stopFlag = Locked(false)
    /// Self-pipe: the training thread writes a byte so the socket thread's `zmq_poll` wakes at once.
    private let wake: (read: Int32, write: Int32)

    public init(endpoint: String, settings: WorkerSettings, executor: any TrialExecutor, outbox: Outbox,
                curve: WorkerCurve? = nil, logger: Logger) {
        self.endpoint = endpoint
        self.settings = settings
        self.executor = executor
        self.outbox = outbox
        self.curve = curve
        self.logger = logger
        var fds: [Int32] = [-1, -1]
        if pipe(&fds) == 0 {
            _ = fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK)
            _ = fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK)
        }
        wake = (fds[0], fds[1])
    }

    deinit {
        if wake.read >= 0 { close(wake.read) }
        if wake.write >= 0 { close(wake.write) }
    }

    /// Asks the loop to leave (SIGINT/SIGTERM): a running trial is cancelled, the coordinator told.
    public func requestStop() { stopFlag.withLock { $0 = true } }

    /// Runs until the coordinator says the sweep is done, `--max-trials` is reached or a stop is
    /// requested; returns the exit code. Call it on a dedicated thread (it blocks in `zmq_poll`).
    /// Many in-process workers (benchmarks) may share one `context`.
    public func run(context shared: ZMQContext? = nil) throws -> Int32 {
        let context = try shared ?? ZMQContext()
        let loaded = outbox.load()
        for bad in loaded.unreadable { logger.warning("skipping unreadable outbox file \(bad)") }
        if !loaded.results.isEmpty { logger.info("outbox holds \(loaded.results.count) unacknowledged result(s); will re-send") }
        var core = Worker(settings: settings, outbox: loaded.results, now: Date())
        var socket = try connect(context)
        var stopping = false
        var directives = core.onStart(now: Date())
        while true {
            // Perform directives.
            while !directives.isEmpty {
                let d = directives.removeFirst()
                switch d {
                case .send(let message):
                    do { _ = try socket.send(Wire.encode(message)) } catch { logger.warning("send failed: \(error)") }
                case .reconnect:
                    socket.close()
                    socket = try connect(context)
                case .startTrial(let lease):
                    startTrial(lease)
                case .cancelTrial(let id):
                    cancelled.withLock { _ = $0.insert(id) }
                case .persist(let body):
                    do { try outbox.persist(body) } catch { logger.error("\(error)") }
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
            if let parent = settings.parentPID, getppid() != parent, !stopping {
                logger.notice("parent process \(parent) is gone; stopping")
                stopFlag.withLock { $0 = true }
            }
            if !stopping && stopFlag.current {
                stopping = true
                logger.notice("stopping worker")
                if let c = core.current {
                    cancelled.withLock { _ = $0.insert(c.trialID) }
                    // Give the runner a moment to stop its trial (and any child processes) cleanly.
                    let deadline = Date().addingTimeInterval(3)
                    while Date() < deadline && !events.withLock({ $0.contains { if case .finished = $0 { return true } else { return false } } }) {
                        Thread.sleep(forTimeInterval: 0.05)
                    }
                }
                _ = try? socket.send(Wire.encode(.disconnect(Disconnect(reason: "worker stopping", sweepDone: false))))
                try? socket.setLinger(milliseconds: 500)
                socket.close()
                return 130
            }
            let readable = try ZMQSocket.poll([socket], fds: wake.read >= 0 ? [wake.read] : [], timeoutMs: 50)
            if readable.count > 1 && readable[1] {
                var sink = [UInt8](repeating: 0, count: 64)
                while read(wake.read, &sink, sink.count) > 0 {}
            }
            let now = Date()
            if readable[0] {
                while let frames = (try? socket.receive()) ?? nil {
                    switch Wire.decode(frames) {
                    case .success(let message): directives += core.onMessage(message, now: now)
                    case .failure(let error): directives += core.onUndecodable(error, now: now)
                    }
                }
            }
            for event in events.withLock({ q -> [TrialEvent] in defer { q.removeAll() }; return q }) {
                switch event {
                case .epoch(let id, let epoch, let epochs, let metrics):
                    directives += core.onEpoch(trialID: id, epoch: epoch, epochs: epochs, metrics: metrics, now: now)
                case .finished(let id, .finished(let result)):
                    directives += core.onTrialFinished(trialID: id, result: result, now: now)
                case .finished(let id, .failed(let reason, let retryable)):
                    directives += core.onTrialFailed(trialID: id, reason: reason, retryable: retryable, now: now)
                }
            }
            directives += core.onTick(progress: progressCounter.current, now: now)
        }
    }

    private func connect(_ context: ZMQContext) throws -> ZMQSocket {
        let socket = try ZMQSocket(context, .dealer)
        try socket.setRoutingID(settings.workerID)
        try socket.setHighWaterMarks(send: 1000, receive: 1000)
        try socket.setMaxMessageSize(Int64(Wire.maxBodyBytes + 4096))
        if let curve {
            try socket.makeCurveClient(serverKey: curve.serverPublicKey, publicKey: curve.keys.publicKey, secretKey: curve.keys.secretKey)
        }
        try socket.connect(endpoint)
        return socket
    }

    private func startTrial(_ lease: LeaseBody) {
        progressCounter.withLock { $0 = 0 }
        let executor = self.executor, events = self.events, counter = self.progressCounter, cancelled = self.cancelled
        let id = lease.trialID, wakeFD = wake.write
        let poke: @Sendable () -> Void = {
            var byte: UInt8 = 1
            if wakeFD >= 0 { _ = write(wakeFD, &byte, 1) }
        }
        let thread = Thread {
            let outcome = executor.execute(lease, progress: { epoch, epochs, metrics in
                counter.withLock { $0 += 1 }
                events.withLock { $0.append(.epoch(id, epoch, epochs, metrics)) }
                poke()
            }, isCancelled: {
                counter.withLock { $0 += 1 }
                return cancelled.withLock { $0.contains(id) }
            })
            cancelled.withLock { _ = $0.remove(id) }
            events.withLock { $0.append(.finished(id, outcome)) }
            poke()
        }
        thread.name = "fsweep.trial"
        thread.stackSize = 16 << 20
        thread.start()
    }
}
