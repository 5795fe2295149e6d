import Foundation

/// ZeroMQ Authentication Protocol (RFC 27) decisions for CURVE clients: a pure function from a ZAP
/// request to a reply, so the allow-list logic is testable without sockets. The coordinator's shell binds
/// the REP socket at `inproc://zeromq.zap.01` on its own thread and feeds requests here.
public struct ZAPHandler: Sendable {
    /// The inproc endpoint libzmq sends ZAP requests to.
    public static let endpoint = "inproc://zeromq.zap.01"

    public var authorized: AuthorizedKeys

    public init(authorized: AuthorizedKeys) { self.authorized = authorized }

    /// Outcome of one request: the reply frames and, for logging, who asked and whether they got in.
    public struct Decision: Sendable {
        public var reply: [[UInt8]]
        public var accepted: Bool
        public var address: String
        public var client: String
    }

    /// Decides a request: frames are version, request id, domain, address, identity, mechanism, credentials.
    public func handle(_ frames: [[UInt8]]) -> Decision {
        func text(_ i: Int) -> String { i < frames.count ? String(decoding: frames[i], as: UTF8.self) : "" }
        let requestID = frames.count > 1 ? frames[1] : []
        func reply(_ code: String, _ status: String, user: String) -> [[UInt8]] {
            [Array("1.0".utf8), requestID, Array(code.utf8), Array(status.utf8), Array(user.utf8), []]
        }
        let address = text(3)
        guard frames.count >= 6, text(0) == "1.0" else {
            return Decision(reply: reply("500", "malformed ZAP request", user: ""), accepted: false, address: address, client: "?")
        }
        guard text(5) == "CURVE", frames.count >= 7, let key = Z85.encode(frames[6]) else {
            return Decision(reply: reply("400", "CURVE required", user: ""), accepted: false, address: address, client: text(5))
        }
        if let name = authorized.keys[key] {
            return Decision(reply: reply("200", "OK", user: name), accepted: true, address: address, client: name)
        }
        return Decision(reply: reply("400", "key not authorized", user: ""), accepted: false, address: address, client: key)
    }
}
