import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A minimal HTTP/1.1 client over a raw loopback socket: sends the request path exactly as given (no client
/// normalisation of `..`), and reads with a bounded deadline. Test-only. The blocking socket calls run on a
/// dispatch queue, never on the cooperative pool that the other tests share.
struct HTTPClient: Sendable {
    struct Reply { var status: Int; var headers: String; var body: String }

    let port: Int

    /// One GET with `Connection: close`; reads until the server closes or `timeout` seconds pass.
    func get(_ path: String, headers: [String: String] = [:], timeout: Double = 20) async throws -> Reply {
        try await blocking { try getNow(path, headers: headers, timeout: timeout) }
    }

    /// Opens a streaming GET and reads until `done(textSoFar)` is true or `timeout` seconds pass; returns the text.
    func stream(_ path: String, timeout: Double = 20, until done: @escaping @Sendable (String) -> Bool) async throws -> String {
        try await blocking {
            let fd = try connectSocket()
            defer { close(fd) }
            try send(fd, path: path, headers: [:])
            return try readUntil(fd, deadline: Date().addingTimeInterval(timeout), done)
        }
    }

    private func getNow(_ path: String, headers: [String: String], timeout: Double) throws -> Reply {
        let fd = try connectSocket()
        defer { close(fd) }
        try send(fd, path: path, headers: headers)
        let text = try readUntil(fd, deadline: Date().addingTimeInterval(timeout)) { _ in false }
        return try parse(text)
    }

    private func connectSocket() throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ClientError("socket failed") }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { close(fd); throw ClientError("connect to 127.0.0.1:\(port) failed: errno \(errno)") }
        return fd
    }

    private func send(_ fd: Int32, path: String, headers: [String: String]) throws {
        var request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        for (k, v) in headers { request += "\(k): \(v)\r\n" }
        request += "\r\n"
        let bytes = Array(request.utf8)
        guard bytes.withUnsafeBytes({ Glibc.send(fd, $0.baseAddress, $0.count, 0) }) == bytes.count else { throw ClientError("send failed") }
    }

    private func readUntil(_ fd: Int32, deadline: Date, _ done: (String) -> Bool) throws -> String {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let left = deadline.timeIntervalSinceNow
            if left <= 0 { return String(decoding: data, as: UTF8.self) }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&p, 1, Int32(min(left, 1) * 1000))
            if ready <= 0 { continue }
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { return String(decoding: data, as: UTF8.self) }
            data.append(contentsOf: buffer[0..<n])
            if done(String(decoding: data, as: UTF8.self)) { return String(decoding: data, as: UTF8.self) }
        }
    }

    private func parse(_ text: String) throws -> Reply {
        guard let split = text.range(of: "\r\n\r\n") else { throw ClientError("no complete response: \(text.prefix(200))") }
        let head = String(text[..<split.lowerBound])
        var body = String(text[split.upperBound...])
        let statusLine = head.split(separator: "\r\n").first ?? ""
        let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "") ?? 0
        if head.lowercased().contains("transfer-encoding: chunked") { body = HTTPClient.dechunk(body) }
        return Reply(status: status, headers: head, body: body)
    }

    static func dechunk(_ s: String) -> String {
        var out = "", rest = Substring(s)
        while let line = rest.range(of: "\r\n"), let size = Int(rest[..<line.lowerBound], radix: 16), size > 0 {
            let start = line.upperBound
            let bytes = Array(rest[start...].utf8)
            out += String(decoding: bytes.prefix(size), as: UTF8.self)
            rest = Substring(String(decoding: bytes.dropFirst(size + 2), as: UTF8.self))
        }
        return out
    }
}

struct ClientError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// Runs blocking test work (sockets, child processes) on a dispatch queue instead of the cooperative pool.
func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
    }
}
