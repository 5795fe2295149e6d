import Foundation

/// Who may read the dashboard. On a loopback address anyone on this machine may (like `status`); on any
/// other address every request must carry the token (query `?token=`, the cookie set after a first visit
/// with it, or `Authorization: Bearer`), like Jupyter's.
public struct DashboardAccess: Sendable, Equatable {
    /// The required token; nil when the server is reachable from this machine only.
    public let token: String?

    /// Cookie that remembers an accepted token, so links and live updates work after the first visit.
    public static let cookieName = "fsweep_token"

    public init(token: String?) { self.token = token }

    /// The access rule for a bind host: loopback needs no token unless one is given; anything else gets
    /// `token` or a fresh random one.
    public static func forHost(_ host: String, token: String? = nil) -> DashboardAccess {
        if let token { return DashboardAccess(token: token) }
        return isLoopback(host) ? DashboardAccess(token: nil) : DashboardAccess(token: generateToken())
    }

    /// Whether `host` names this machine only (127.0.0.0/8, ::1, localhost).
    public static func isLoopback(_ host: String) -> Bool {
        let h = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).lowercased()
        return h == "localhost" || h == "::1" || h.hasPrefix("127.")
    }

    /// 32 random bytes as hex, from the system's random source.
    public static func generateToken() -> String {
        var rng = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: .min ... .max, using: &rng)) }.joined()
    }

    /// Whether a request may be answered, given its query token, Cookie header and Authorization header.
    public func allows(queryToken: String?, cookieHeader: String?, authorization: String?) -> Bool {
        guard let token else { return true }
        if let queryToken, DashboardAccess.constantTimeEqual(queryToken, token) { return true }
        if let authorization, authorization.hasPrefix("Bearer "),
           DashboardAccess.constantTimeEqual(String(authorization.dropFirst(7)), token) { return true }
        if let value = DashboardAccess.cookie(DashboardAccess.cookieName, in: cookieHeader),
           DashboardAccess.constantTimeEqual(value, token) { return true }
        return false
    }

    /// The value of cookie `name` in a `Cookie:` header.
    static func cookie(_ name: String, in header: String?) -> String? {
        guard let header else { return nil }
        for part in header.split(separator: ";") {
            let pair = part.trimmingCharacters(in: .whitespaces)
            if pair.hasPrefix(name + "=") { return String(pair.dropFirst(name.count + 1)) }
        }
        return nil
    }

    /// Comparison whose time does not depend on where the strings differ.
    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var diff: UInt8 = 0
        for i in 0..<x.count { diff |= x[i] ^ y[i] }
        return diff == 0
    }
}
