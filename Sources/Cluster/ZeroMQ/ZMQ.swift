internal import CZeroMQ
import Foundation

/// Thin Swift view of the libzmq C API. Sockets are single-thread objects: each `ZMQSocket` is created,
/// used and closed on one thread (the shell thread that owns it); only the context is shared.
public enum ZMQ {
    /// libzmq's version as `major.minor.patch`, for READY capabilities and diagnostics.
    public static var version: String {
        var major: Int32 = 0, minor: Int32 = 0, patch: Int32 = 0
        zmq_version(&major, &minor, &patch)
        return "\(major).\(minor).\(patch)"
    }

    /// Whether this libzmq was built with CURVE (libsodium); checked before any secure bind.
    public static var hasCurve: Bool { zmq_has("curve") == 1 }

    /// The current thread's ZeroMQ error as a `ClusterError`: its errno and that errno's text.
    static func lastError(_ what: String) -> ClusterError {
        let e = zmq_errno()
        return ClusterError(code: "zmq", message: what, cause: String(cString: zmq_strerror(e)), errno: e)
    }
}

/// A ZeroMQ context shared by the sockets of one process.
public final class ZMQContext: @unchecked Sendable {
    // Safe: libzmq contexts are thread-safe by contract; the handle is immutable after init.
    let handle: UnsafeMutableRawPointer

    public init() throws {
        guard let h = zmq_ctx_new() else { throw ZMQ.lastError("could not create a ZeroMQ context") }
        handle = h
    }

    deinit { zmq_ctx_term(handle) }
}

/// Socket types used by fsweep.
public enum ZMQSocketType: Sendable {
    case router, dealer, rep, req

    var raw: Int32 {
        switch self {
        case .router: return ZMQ_ROUTER
        case .dealer: return ZMQ_DEALER
        case .rep: return ZMQ_REP
        case .req: return ZMQ_REQ
        }
    }
}

/// One ZeroMQ socket, owned by one thread; closed in `deinit` or by `close()`.
public final class ZMQSocket {
    private(set) var handle: UnsafeMutableRawPointer?
    /// Kept alive while the socket is open so the context outlives its sockets.
    private let context: ZMQContext

    public init(_ context: ZMQContext, _ type: ZMQSocketType) throws {
        guard let h = zmq_socket(context.handle, type.raw) else { throw ZMQ.lastError("could not create a socket") }
        self.context = context
        handle = h
        try setInt(ZMQ_LINGER, 0)
    }

    deinit { close() }

    /// Closes the socket now (pending messages are dropped: linger is 0).
    public func close() {
        if let h = handle { zmq_close(h) }
        handle = nil
    }

    private func open() throws -> UnsafeMutableRawPointer {
        guard let h = handle else { throw ClusterError(code: "closed", message: "socket already closed") }
        return h
    }

    func setInt(_ option: Int32, _ value: Int32) throws {
        var v = value
        if zmq_setsockopt(try open(), option, &v, MemoryLayout<Int32>.size) != 0 {
            throw ZMQ.lastError("setsockopt \(option) failed")
        }
    }

    func setInt64(_ option: Int32, _ value: Int64) throws {
        var v = value
        if zmq_setsockopt(try open(), option, &v, MemoryLayout<Int64>.size) != 0 {
            throw ZMQ.lastError("setsockopt \(option) failed")
        }
    }

    func setBytes(_ option: Int32, _ bytes: [UInt8]) throws {
        let h = try open()
        let rc = bytes.withUnsafeBytes { zmq_setsockopt(h, option, $0.baseAddress, $0.count) }
        if rc != 0 { throw ZMQ.lastError("setsockopt \(option) failed") }
    }

    func getString(_ option: Int32) throws -> String {
        var buffer = [CChar](repeating: 0, count: 1024)
        var size = buffer.count
        if zmq_getsockopt(try open(), option, &buffer, &size) != 0 { throw ZMQ.lastError("getsockopt \(option) failed") }
        return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Sets the routing id a ROUTER sees for this DEALER (stable across reconnects).
    public func setRoutingID(_ id: String) throws { try setBytes(ZMQ_ROUTING_ID, Array(id.utf8)) }
    /// ROUTER: fail sends to unknown peers instead of silently dropping them.
    public func setRouterMandatory(_ on: Bool) throws { try setInt(ZMQ_ROUTER_MANDATORY, on ? 1 : 0) }
    /// ROUTER: a reconnecting peer with a known routing id takes over the old connection.
    public func setRouterHandover(_ on: Bool) throws { try setInt(ZMQ_ROUTER_HANDOVER, on ? 1 : 0) }
    /// Largest accepted inbound message; bigger ones make libzmq drop the peer (bounded memory).
    public func setMaxMessageSize(_ bytes: Int64) throws { try setInt64(ZMQ_MAXMSGSIZE, bytes) }
    /// Send/receive high-water marks (messages queued per peer) to bound memory.
    public func setHighWaterMarks(send: Int32, receive: Int32) throws {
        try setInt(ZMQ_SNDHWM, send)
        try setInt(ZMQ_RCVHWM, receive)
    }
    /// ZAP domain used for authentication requests from this socket.
    public func setZAPDomain(_ domain: String) throws { try setBytes(ZMQ_ZAP_DOMAIN, Array(domain.utf8)) }

    /// Makes this socket a CURVE server with the given secret key (Z85, 40 chars).
    public func makeCurveServer(secretKey: String) throws {
        try setInt(ZMQ_CURVE_SERVER, 1)
        try setBytes(ZMQ_CURVE_SECRETKEY, Array(secretKey.utf8))
    }

    /// Makes this socket a CURVE client that trusts `serverKey` (all keys Z85).
    public func makeCurveClient(serverKey: String, publicKey: String, secretKey: String) throws {
        try setBytes(ZMQ_CURVE_SERVERKEY, Array(serverKey.utf8))
        try setBytes(ZMQ_CURVE_PUBLICKEY, Array(publicKey.utf8))
        try setBytes(ZMQ_CURVE_SECRETKEY, Array(secretKey.utf8))
    }

    public func bind(_ endpoint: String) throws {
        if zmq_bind(try open(), endpoint) != 0 { throw ZMQ.lastError("could not bind \(endpoint)") }
    }

    public func connect(_ endpoint: String) throws {
        if zmq_connect(try open(), endpoint) != 0 { throw ZMQ.lastError("could not connect to \(endpoint)") }
    }

    /// The endpoint actually bound (resolves `tcp://127.0.0.1:*` to a concrete port).
    public func lastEndpoint() throws -> String { try getString(ZMQ_LAST_ENDPOINT) }

    /// What happened to a non-blocking send.
    public enum SendOutcome: Sendable, Equatable {
        case sent
        /// The peer's queue is full or no connection is up yet; the message was dropped.
        case wouldBlock
        /// ROUTER_MANDATORY: the routing id names no connected peer.
        case unreachable
    }

    /// Sends a multipart message without blocking; throws on errors other than would-block/unreachable.
    @discardableResult
    public func send(_ frames: [[UInt8]]) throws -> SendOutcome {
        let h = try open()
        for (i, frame) in frames.enumerated() {
            let flags = ZMQ_DONTWAIT | (i < frames.count - 1 ? ZMQ_SNDMORE : 0)
            let rc = frame.withUnsafeBytes { zmq_send(h, $0.baseAddress, $0.count, flags) }
            if rc < 0 {
                let e = zmq_errno()
                if e == EHOSTUNREACH && i == 0 { return .unreachable }
                if e == EAGAIN && i == 0 { return .wouldBlock }
                throw ZMQ.lastError("send failed")
            }
        }
        return .sent
    }

    /// Linger (ms) on close, so a final DISCONNECT can still leave before the process exits.
    public func setLinger(milliseconds: Int32) throws { try setInt(ZMQ_LINGER, milliseconds) }

    /// One received multipart message and the ZAP user id of the connection it came on (the authorized key's
    /// name under CURVE; nil without authentication).
    public struct Received: Sendable {
        public var frames: [[UInt8]]
        public var userID: String?
    }

    /// Receives one whole multipart message without blocking; nil when none is waiting.
    public func receive() throws -> [[UInt8]]? { try receiveMessage()?.frames }

    /// Receives one whole multipart message with its connection's user id, without blocking.
    public func receiveMessage() throws -> Received? {
        let h = try open()
        var frames: [[UInt8]] = []
        var userID: String?
        while true {
            var msg = zmq_msg_t()
            zmq_msg_init(&msg)
            defer { zmq_msg_close(&msg) }
            let rc = zmq_msg_recv(&msg, h, frames.isEmpty ? ZMQ_DONTWAIT : 0)
            if rc < 0 {
                if zmq_errno() == EAGAIN && frames.isEmpty { return nil }
                throw ZMQ.lastError("receive failed")
            }
            if frames.isEmpty, let uid = zmq_msg_gets(&msg, "User-Id") { userID = String(cString: uid) }
            let size = zmq_msg_size(&msg)
            if let data = zmq_msg_data(&msg) {
                frames.append(Array(UnsafeRawBufferPointer(start: data, count: size)))
            } else {
                frames.append([])
            }
            if zmq_msg_more(&msg) == 0 { return Received(frames: frames, userID: userID) }
        }
    }

    /// Waits up to `timeoutMs` for any of `sockets` to become readable; returns their readiness flags.
    /// Plain file descriptors in `fds` (e.g. a wake-up pipe) are polled too; their flags follow the sockets'.
    public static func poll(_ sockets: [ZMQSocket], fds: [Int32] = [], timeoutMs: Int) throws -> [Bool] {
        var items = sockets.map { zmq_pollitem_t(socket: $0.handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0) }
        items += fds.map { zmq_pollitem_t(socket: nil, fd: $0, events: Int16(ZMQ_POLLIN), revents: 0) }
        let rc = zmq_poll(&items, Int32(items.count), timeoutMs)
        if rc < 0 {
            if zmq_errno() == EINTR { return items.map { _ in false } }
            throw ZMQ.lastError("poll failed")
        }
        return items.map { ($0.revents & Int16(ZMQ_POLLIN)) != 0 }
    }
}
