import Foundation

/// Where a bind goes: loopback (keys optional) or anything else (CURVE required unless `--insecure`).
/// Decided from resolved addresses, never from the spelling: libzmq accepts interface names as hosts (an
/// interface may be called `127.9` and carry a routable address), so a host is first looked up as an
/// interface name, then resolved as a name or literal; it is loopback only if every address it stands for is.
public enum Endpoint {
    /// One address of a network interface or of a resolved name.
    public enum Address: Sendable, Equatable {
        case ipv4(UInt32)  // host byte order
        case ipv6([UInt8])

        /// 127.0.0.0/8, ::1 or an IPv4-mapped 127.x address.
        public var isLoopback: Bool {
            switch self {
            case .ipv4(let a): return a >> 24 == 127
            case .ipv6(let b):
                guard b.count == 16 else { return false }
                if b[0..<15].allSatisfy({ $0 == 0 }) && b[15] == 1 { return true }
                let mapped = b[0..<10].allSatisfy { $0 == 0 } && b[10] == 0xff && b[11] == 0xff
                return mapped && b[12] == 127
            }
        }
    }

    /// Whether a bind to `endpoint` accepts connections from this machine only.
    public static func isLoopback(_ endpoint: String) -> Bool {
        isLoopback(endpoint, interfaces: interfaceAddresses(), resolve: resolve)
    }

    /// The same decision with the interface table and resolver given (for tests).
    public static func isLoopback(_ endpoint: String, interfaces: [String: [Address]], resolve: (String) -> [Address]) -> Bool {
        if endpoint.hasPrefix("ipc://") || endpoint.hasPrefix("inproc://") { return true }
        guard let host = host(of: endpoint), host != "*", !host.isEmpty else { return false }
        let addresses = interfaces[host] ?? resolve(host)
        return !addresses.isEmpty && addresses.allSatisfy(\.isLoopback)
    }

    /// The host part of `tcp://HOST:PORT` (brackets of an IPv6 literal removed); nil for other transports.
    static func host(of endpoint: String) -> String? {
        guard endpoint.hasPrefix("tcp://") else { return nil }
        let rest = String(endpoint.dropFirst(6))
        if rest.hasPrefix("[") { return String(rest.dropFirst().prefix(while: { $0 != "]" })) }
        guard let colon = rest.lastIndex(of: ":") else { return rest }
        return String(rest[..<colon])
    }

    /// Every interface's addresses by interface name (getifaddrs).
    static func interfaceAddresses() -> [String: [Address]] {
        var head: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&head) == 0, let first = head else { return [:] }
        defer { freeifaddrs(head) }
        var out: [String: [Address]] = [:]
        var cursor: UnsafeMutablePointer<ifaddrs>? = first
        while let ifa = cursor {
            let name = String(cString: ifa.pointee.ifa_name)
            if let sa = ifa.pointee.ifa_addr, let a = address(sa) { out[name, default: []].append(a) }
            cursor = ifa.pointee.ifa_next
        }
        return out
    }

    /// Addresses a host name or literal resolves to (getaddrinfo); empty when it does not resolve.
    static func resolve(_ host: String) -> [Address] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var res: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &res) == 0, let first = res else { return [] }
        defer { freeaddrinfo(res) }
        var out: [Address] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let ai = cursor {
            if let sa = ai.pointee.ai_addr, let a = address(sa) { out.append(a) }
            cursor = ai.pointee.ai_next
        }
        return out
    }

    private static func address(_ sa: UnsafeMutablePointer<sockaddr>) -> Address? {
        switch Int32(sa.pointee.sa_family) {
        case AF_INET:
            return sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { .ipv4(UInt32(bigEndian: $0.pointee.sin_addr.s_addr)) }
        case AF_INET6:
            return sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { p in
                withUnsafeBytes(of: p.pointee.sin6_addr) { .ipv6(Array($0)) }
            }
        default:
            return nil
        }
    }
}
