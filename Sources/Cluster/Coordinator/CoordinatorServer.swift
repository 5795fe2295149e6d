import Foundation
import Logging
import Sweeps
import Trials

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
///
/// Memory: libzmq drops any peer that sends a frame over `Wire.maxFrameBytes`, and queues at most
/// `receiveHighWaterMark` messages per connection before it stops reading that connection (TCP backpressure),
/// so a connection costs at most (`receiveHighWaterMark` + 1) × `Wire.maxFrameBytes` in libzmq; uploads held by
/// the coordinator stay under `CoordinatorSettings.uploadBudgetBytes`. Under CURVE only authorized
/// connections get that far.
public final class CoordinatorServer: Sendable {
    public let endpoint: String
    public let settings: CoordinatorSettings
    public let security: CoordinatorSecurity
    private let store: any CoordinatorStore
    private let logger: Logger
    private let shutdownFlag = Locked(false)
    private let state = Locked<Snapshot>(Snapshot())
    private let finishedSignal = DispatchSemaphore(value: 0)

    /// Messages libzmq queues per connection before it stops reading from it.
    public static let receiveHighWaterMark: Int32 = 4
    /// Messages handled per group commit at most. Replies (ACK, the next LEASE) leave only after their batch
    /// commits, so a burst of a thousand results handled in one batch made the first worker wait for all of
    /// them (≈ 100 ms); 128 keeps the commit shared and the wait short (`BENCHMARKS.md`, Cluster).
    static let messagesPerCommit = 128

    /// Live numbers for progress lines.
    public struct Snapshot: Sendable {
        public var bound: String?
        public var exitCode: Int32?
        public var counts: SweepStore.Counts?
        public var workers = 0
        public var busy = 0
        /// Seconds the loop spent working (not waiting in poll) so far: divided by the wall time, how close
        /// the coordinator is to its capacity.
        public var loopBusySeconds = 0.0
    }

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
        try checkSecurity(endpoint)
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

    private func checkSecurity(_ endpoint: String) throws {
        if security.curveSecretKey == nil && !security.insecure && !Endpoint.isLoopback(endpoint) {
            throw ClusterError(code: "insecure-bind",
                               message: "refusing to bind \(endpoint) without CURVE: it is not a loopback address. Pass --curve-secret and "
                                + "--authorized-keys (see `fsweep keys generate`), or --insecure on a trusted network")
        }
        if security.curveSecretKey != nil {
            try CurveKeyPair.requireCurve()
            guard security.authorized != nil else {
                throw ClusterError(code: "no-authorized-keys", message: "CURVE needs --authorized-keys listing the workers' public keys")
            }
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
    public var snapshot: Snapshot { state.current }

    private struct Sockets {
        let context: ZMQContext
        let router: ZMQSocket
        let zap: ZMQSocket?
    }

    private func openSockets() throws -> Sockets {
        let context = try ZMQContext()
        var zap: ZMQSocket?
        let router = try ZMQSocket(context, .router)
        if let secret = security.curveSecretKey {
            let z = try ZMQSocket(context, .rep)
            try z.bind(ZAPHandler.endpoint)
            zap = z
            try router.makeCurveServer(secretKey: secret)
            try router.setZAPDomain("fsweep")
        }
        try router.setRouterMandatory(true)
        try router.setRouterHandover(true)
        try router.setMaxMessageSize(Int64(Wire.maxFrameBytes))
        try router.setHighWaterMarks(send: 1000, receive: Self.receiveHighWaterMark)
        try router.bind(endpoint)
        // The address actually bound decides, whatever the endpoint's spelling resolved to.
        let bound = try router.lastEndpoint()
        if security.curveSecretKey == nil && !security.insecure && !Endpoint.isLoopback(bound) {
            router.close()
            throw ClusterError(code: "insecure-bind", message: "refusing to serve \(endpoint) without CURVE: it bound \(bound), which is not loopback")
        }
        return Sockets(context: context, router: router, zap: zap)
    }

    private func serve(onBound: (Result<String, ClusterError>) -> Void) {
        var exitCode: Int32 = 1
        defer {
            state.withLock { $0.exitCode = exitCode }
            finishedSignal.signal()
        }
        let sockets: Sockets
        do {
            sockets = try openSockets()
            let bound = try sockets.router.lastEndpoint()
            state.withLock { $0.bound = bound }
            onBound(.success(bound))
            logger.info("coordinator listening on \(bound)\(security.curveSecretKey != nil ? " (CURVE, \(security.authorized?.keys.count ?? 0) authorized key(s))" : "")")
        } catch let error as ClusterError {
            onBound(.failure(error))
            return
        } catch {
            onBound(.failure(ClusterError(code: "zmq", message: "could not start the coordinator", cause: "\(error)")))
            return
        }
        var core = Coordinator(settings: settings, store: store)
        exitCode = loop(&core, sockets)
        state.withLock { $0.counts = (try? store.counts()) ?? $0.counts; $0.workers = 0; $0.busy = 0 }
        sockets.router.close()
        sockets.zap?.close()
    }

    /// The poll loop; returns the exit code.
    private func loop(_ core: inout Coordinator, _ sockets: Sockets) -> Int32 {
        let zapHandler = security.authorized.map { ZAPHandler(authorized: $0) }
        var lastTick = Date.distantPast, lastSnapshot = Date.distantPast
        var shutdownSeen = false
        var busyNanos: UInt64 = 0
        var directives = core.onStart(now: Date())
        let polled = [sockets.router] + (sockets.zap.map { [$0] } ?? [])
        while true {
            if let code = perform(&directives, &core, sockets.router) {
                state.withLock { $0.loopBusySeconds = Double(busyNanos) / 1e9 }
                return code
            }
            let readable: [Bool]
            do { readable = try ZMQSocket.poll(polled, timeoutMs: 50) } catch {
                logger.error("poll failed: \(error)")
                return 1
            }
            let woke = DispatchTime.now().uptimeNanoseconds
            defer { busyNanos += DispatchTime.now().uptimeNanoseconds - woke }
            if readable[0] { directives += receive(&core, sockets.router) }
            if let zap = sockets.zap, let handler = zapHandler, readable.count > 1, readable[1] { authenticate(zap, handler) }
            let now = Date()
            if !shutdownSeen && shutdownFlag.current {
                shutdownSeen = true
                directives += core.onShutdownRequested(now: now)
            }
            if now.timeIntervalSince(lastTick) >= 0.1 {
                lastTick = now
                directives += committed(&core) { $0.onTick(now: now) }
            }
            // The snapshot (for `status` and the dashboard) counts every trial: once a second is enough.
            if now.timeIntervalSince(lastSnapshot) >= 1 {
                lastSnapshot = now
                let counts = try? store.counts()
                let workers = core.workers.count, busy = core.busyWorkers, loop = Double(busyNanos) / 1e9
                state.withLock { $0.counts = counts ?? $0.counts; $0.workers = workers; $0.busy = busy; $0.loopBusySeconds = loop }
            }
        }
    }

    /// Runs one step of the state machine as a group commit and returns its directives once the store has
    /// committed. If the commit fails, the step's directives are dropped (no ACK for anything not durable) and
    /// the coordinator reloads its state from the store exactly as after a restart: live leases become orphans
    /// their workers re-adopt, so nothing runs twice.
    private func committed(_ core: inout Coordinator, _ step: (inout Coordinator) -> [Coordinator.Directive]) -> [Coordinator.Directive] {
        do {
            let directives = try store.batch { step(&core) }
            core.onCommitted()
            return directives
        } catch {
            logger.error("store commit failed, reloading the sweep's state from the store: \(error)")
            core = Coordinator(settings: settings, store: store)
            return core.onStart(now: Date())
        }
    }

    /// Up to `messagesPerCommit` waiting messages in one group commit (so replies, ticks and heartbeats keep their
    /// rhythm under load). The first is taken before the transaction begins, so a LEASE it lets leave ahead
    /// (`Coordinator.leaseAhead`) does not wait for the BEGIN either.
    private func receive(_ core: inout Coordinator, _ router: ZMQSocket) -> [Coordinator.Directive] {
        guard let first = take(&core, router) else { return [] }
        return committed(&core) { core in
            var directives = handle(first, &core, router)
            for _ in 1..<Self.messagesPerCommit {
                guard let next = take(&core, router) else { break }
                directives += handle(next, &core, router)
            }
            return directives
        }
    }

    /// A message read from the socket, with its early LEASE (if any) already sent.
    private struct Incoming {
        let peer: PeerID
        let identity: String
        let frames: [[UInt8]]
        let unreachable: Bool
    }

    /// Reads the next waiting message and sends the LEASE it lets leave ahead; nil when none waits.
    private func take(_ core: inout Coordinator, _ router: ZMQSocket) -> Incoming? {
        while let message = (try? router.receiveMessage()) ?? nil {
            guard message.frames.count >= 2 else { continue }
            let peer = PeerID(message.frames[0]), frames = Array(message.frames.dropFirst())
            let identity = message.userID.map { "curve:\($0)" } ?? "zmq:\(peer)"
            var unreachable = false
            if let lease = core.leaseAhead(for: peer, identity: identity, frames: frames) {
                unreachable = (try? router.send([peer.bytes] + lease)) == .unreachable
                // libzmq's I/O thread, which writes the LEASE to the network, was just woken, most often onto this
                // thread's CPU: let it run before the batch's work (decode, store, commit) instead of after.
                sched_yield()
            }
            return Incoming(peer: peer, identity: identity, frames: frames, unreachable: unreachable)
        }
        return nil
    }

    /// Runs the state machine on one message (inside the batch); a `sendNow` leaves at once.
    private func handle(_ m: Incoming, _ core: inout Coordinator, _ router: ZMQSocket) -> [Coordinator.Directive] {
        var directives: [Coordinator.Directive] = []
        for d in core.onMessage(from: m.peer, identity: m.identity, frames: m.frames, now: Date()) {
            guard case .sendNow(let to, let reply) = d else { directives.append(d); continue }
            directives += send(reply, to: to, &core, router)
        }
        if m.unreachable { directives += core.onPeerUnreachable(m.peer, now: Date()) }
        return directives
    }

    /// Sends one message; a peer that is gone is reported to the state machine (its directives returned).
    private func send(_ message: Message, to peer: PeerID, _ core: inout Coordinator, _ router: ZMQSocket) -> [Coordinator.Directive] {
        do {
            switch try router.send([peer.bytes] + Wire.encode(message)) {
            case .sent: return []
            case .wouldBlock: logger.debug("dropped \(message.command.rawValue) to \(peer): queue full")
            case .unreachable: return core.onPeerUnreachable(peer, now: Date())
            }
        } catch {
            logger.warning("send to \(peer) failed: \(error)")
        }
        return []
    }

    private func authenticate(_ zap: ZMQSocket, _ handler: ZAPHandler) {
        while let request = (try? zap.receive()) ?? nil {
            let decision = handler.handle(request)
            let address = LogText.clean(decision.address, limit: 60), client = LogText.clean(decision.client, limit: 60)
            if decision.accepted {
                logger.info("authenticated worker key '\(client)' from \(address)")
            } else {
                logger.warning("rejected connection from \(address): key \(client) is not in the authorized keys")
            }
            _ = try? zap.send(decision.reply)
        }
    }

    /// Performs directives in order; returns an exit code when the coordinator is finished.
    private func perform(_ directives: inout [Coordinator.Directive], _ core: inout Coordinator, _ router: ZMQSocket) -> Int32? {
        var index = 0
        while index < directives.count {
            let d = directives[index]
            index += 1
            switch d {
            case .send(let peer, let message), .sendNow(let peer, let message):
                directives += send(message, to: peer, &core, router)
            case .log(let level, let text):
                logger.log(level: level, "\(text)")
            case .exit(let code):
                // Let final DISCONNECTs leave before the socket closes.
                try? router.setLinger(milliseconds: 500)
                directives.removeAll()
                return code
            }
        }
        directives.removeAll()
        return nil
    }
}
