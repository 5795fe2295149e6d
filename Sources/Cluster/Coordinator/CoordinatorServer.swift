internal import CZeroMQ
import Foundation
import Logging

/// Security of the coordinator's socket.
public struct CoordinatorSecurity: Sendable {
    /// CURVE secret key (Z85) of the coordinator; nil means plaintext.
    public var curveSecretKey: String?
    /// Worker public keys accepted by the ZAP handler.
    public var authorized: AuthorizedKeys?
    /// Allow a plaintext bind on a non-loopback address (trusted networks only).
    public var insecure: Bool

    public init(curveSecretKey: String? = nil, authorized: AuthorizedKeys? = nil, insecure: Bool = false) {
        self.curveSecretKey = curveSecretKey
        self.authorized = authorized
        self.insecure = insecure
    }
}

/// The coordinator's socket shell: a dedicated thread owns the ROUTER (and the ZAP REP socket), runs a
/// blocking `zmq_poll` loop, feeds events to `Coordinator` and performs its directives.
public final class CoordinatorServer: Sendable {
    public let endpoint: String
    public let settings: CoordinatorSettings
    public let security: CoordinatorSecurity
    private let store: any CoordinatorStore
    private let logger: Logger
    private let shutdownFlag = Locked(false)
    private let state = Locked<(bound: String?, exitCode: Int32?, counts: TrialCounts?, workers: Int, busy: Int)>((nil, nil, nil, 0, 0))
    private let finishedSignal = DispatchSemaphore(value: 0)

    public init(endpoint: String, settings: CoordinatorSettings, store: any CoordinatorStore,
                security: CoordinatorSecurity = CoordinatorSecurity(), logger: Logger) {
        self.endpoint = endpoint
        self.settings = settings
        self.store = store
        self.security = security
        self.logger = logger
    }

    /// Checks the security rules, binds on the server thread and returns the bound endpoint (a `*`
    /// port is resolved). The loop keeps running until the sweep ends or `requestShutdown()`.
    public func start() throws -> String {
        if security.curveSecretKey == nil && !security.insecure && !Endpoint.isLoopback(endpoint) {
            throw ClusterError(code: "insecure-bind",
                               message: "refusing to bind \(endpoint) without CURVE: pass --curve-secret and --authorized-keys (see `fsweep keys generate`), or --insecure on a trusted network")
        }
        if security.curveSecretKey != nil {
            try CurveKeyPair.requireCurve()
            guard security.authorized != nil else {
                throw ClusterError(code: "no-authorized-keys", message: "CURVE needs --authorized-keys listing the workers' public keys")
            }
        }
        let bound = Locked<Result<String, ClusterError>?>(nil)
        let ready = DispatchSemaphore(value: 0)
        let thread = Thread { [self] in
            self.serve(onBound: { result in bound.withLock { $0 = result }; ready.signal() })
        }
        thread.name = "fsweep.coordinator"
        thread.start()
        ready.wait()
        switch bound.current {
        case .success(let e): return e
        case .failure(let error): throw error
        case nil: throw ClusterError(code: "internal", message: "coordinator thread did not report its bind")
        }
    }

    /// Asks the loop to stop leasing and shut down gracefully (safe from any thread or signal source).
    public func requestShutdown() { shutdownFlag.withLock { $0 = true } }

    /// Blocks until the coordinator exits; returns its exit code (0 all done, 2 some failed, 130 interrupted).
    public func wait() -> Int32 {
        finishedSignal.wait()
        finishedSignal.signal()
        return state.current.exitCode ?? 1
    }

    /// Latest trial counts and live worker numbers, for progress lines.
    public var snapshot: (counts: TrialCounts?, workers: Int, busy: Int) {
        let s = state.current
        return (s.counts, s.workers, s.busy)
    }

    private func serve(onBound: (Result<String, ClusterError>) -> Void) {
        var exitCode: Int32 = 1
        defer {
            state.withLock { $0.exitCode = exitCode }
            finishedSignal.signal()
        }
        let context: ZMQContext
        let router: ZMQSocket
        var zap: ZMQSocket?
        do {
            context = try ZMQContext()
            if let secret = security.curveSecretKey {
                let z = try ZMQSocket(context, .rep)
                try z.bind(ZAPHandler.endpoint)
                zap = z
                router = try ZMQSocket(context, .router)
                try router.makeCurveServer(secretKey: secret)
                try router.setZAPDomain("fsweep")
            } else {
                router = try ZMQSocket(context, .router)
            }
            try router.setRouterMandatory(true)
            try router.setRouterHandover(true)
            try router.setMaxMessageSize(Int64(Wire.maxBodyBytes + 4096))
            try router.setHighWaterMarks(send: 1000, receive: 100_000)
            try router.bind(endpoint)
            let bound = try router.lastEndpoint()
            onBound(.success(bound))
            logger.info("coordinator listening on \(bound)\(security.curveSecretKey != nil ? " (CURVE, \(security.authorized?.keys.count ?? 0) authorized key(s))" : "")")
        } catch let error as ClusterError {
            onBound(.failure(error))
            return
        } catch {
            onBound(.failure(ClusterError(code: "zmq", message: "could not start the coordinator", cause: "\(error)")))
            return
        }
        let zapHandler = security.authorized.map { ZAPHandler(authorized: $0) }
        var core = Coordinator(settings: settings, store: store)
        var lastTick = Date.distantPast
        var shutdownSeen = false
        let sockets = [router] + (zap.map { [$0] } ?? [])

        loop: while true {
            let readable: [Bool]
            do { readable = try ZMQSocket.poll(sockets, timeoutMs: 50) } catch {
                logger.error("poll failed: \(error)")
                break
            }
            var directives: [Coordinator.Directive] = []
            if readable[0] {
                for _ in 0..<1000 {
                    guard let frames = (try? router.receive()) ?? nil else { break }
                    guard frames.count >= 2 else { continue }
                    let peer = PeerID(frames[0])
                    directives += core.onMessage(from: peer, frames: Array(frames.dropFirst()), now: Date())
                }
            }
            if let zap, let handler = zapHandler, readable.count > 1, readable[1] {
                while let request = (try? zap.receive()) ?? nil {
                    let decision = handler.handle(request)
                    if decision.accepted {
                        logger.info("authenticated worker key '\(decision.client)' from \(decision.address)")
                    } else {
                        logger.warning("rejected connection from \(decision.address): key \(decision.client) is not in the authorized keys")
                    }
                    _ = try? zap.send(decision.reply)
                }
            }
            let now = Date()
            if !shutdownSeen && shutdownFlag.current {
                shutdownSeen = true
                directives += core.onShutdownRequested(now: now)
            }
            if now.timeIntervalSince(lastTick) >= 0.1 {
                lastTick = now
                directives += core.onTick(now: now)
                let counts = try? store.counts()
                let workers = core.workers.count, busy = core.busyWorkers
                state.withLock { $0.counts = counts ?? $0.counts; $0.workers = workers; $0.busy = busy }
            }
            while !directives.isEmpty {
                let d = directives.removeFirst()
                switch d {
                case .send(let peer, let message):
                    do {
                        switch try router.send([peer.bytes] + Wire.encode(message)) {
                        case .sent: break
                        case .wouldBlock: logger.debug("dropped \(message.command.rawValue) to \(peer): queue full")
                        case .unreachable: directives += core.onPeerUnreachable(peer)
                        }
                    } catch {
                        logger.warning("send to \(peer) failed: \(error)")
                    }
                case .log(let level, let text):
                    logger.log(level: level, "\(text)")
                case .exit(let code):
                    exitCode = code
                    // Let final DISCONNECTs leave before the socket closes.
                    try? router.setLinger(milliseconds: 500)
                    break loop
                }
            }
        }
        state.withLock { $0.counts = (try? store.counts()) ?? $0.counts; $0.workers = 0; $0.busy = 0 }
        router.close()
        zap?.close()
    }
}
