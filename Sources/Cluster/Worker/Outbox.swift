import Foundation
import Sweeps
import Trials

/// A finished trial's result waiting for the coordinator's ACK: the RESULT header and its array bytes.
public struct OutboxEntry: Sendable, Equatable {
    public var body: ResultBody
    public var payload: [UInt8]

    public init(lease: LeaseRef, result: TrialResult) {
        body = ResultBody(lease: lease, result: result)
        payload = ResultBody.payload(of: result)
    }

    init(body: ResultBody, payload: [UInt8]) {
        self.body = body
        self.payload = payload
    }

    public var lease: LeaseRef { body.lease }

    /// The RESULT message: the header and the first chunk of the array bytes.
    public var firstMessage: Message { .result(body, payload: chunk(at: 0) ?? []) }

    /// The array bytes from `offset` on, at most one chunk; nil for an offset outside the payload.
    public func chunk(at offset: Int) -> [UInt8]? {
        guard offset >= 0, offset <= payload.count else { return nil }
        return Array(payload[offset..<min(payload.count, offset + Wire.chunkBytes)])
    }
}

/// The worker's on-disk outbox: per unacknowledged result a `.bin` file (array bytes) and a `.json` file
/// (the RESULT header), written atomically — the header last, so its presence means the entry is whole —
/// before the result is sent, and deleted when the coordinator ACKs it: no result is lost to a crash.
public struct Outbox: Sendable {
    public let directory: String

    public init(directory: String) throws {
        self.directory = directory
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw ClusterError(code: "outbox", message: "cannot create outbox directory \(directory)", cause: "\(error)")
        }
    }

    private func path(_ leaseID: Int64, _ ext: String) -> URL {
        URL(fileURLWithPath: directory).appendingPathComponent("lease-\(leaseID).\(ext)")
    }

    /// Writes (replacing) one entry.
    public func persist(_ entry: OutboxEntry) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do {
            try Data(entry.payload).write(to: path(entry.lease.leaseID, "bin"), options: .atomic)
            try encoder.encode(entry.body).write(to: path(entry.lease.leaseID, "json"), options: .atomic)
        } catch {
            throw ClusterError(code: "outbox", message: "cannot write the result of \(entry.lease) to the outbox \(directory)", cause: "\(error)")
        }
    }

    /// Deletes an acknowledged (or refused) entry.
    public func remove(_ leaseID: Int64) {
        try? FileManager.default.removeItem(at: path(leaseID, "json"))
        try? FileManager.default.removeItem(at: path(leaseID, "bin"))
    }

    /// Every whole entry; unreadable ones are skipped and reported.
    public func load() -> (entries: [OutboxEntry], unreadable: [String]) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var entries: [OutboxEntry] = [], bad: [String] = []
        for name in names.sorted() where name.hasPrefix("lease-") && name.hasSuffix(".json") {
            let json = URL(fileURLWithPath: directory).appendingPathComponent(name)
            let bin = json.deletingPathExtension().appendingPathExtension("bin")
            if let data = try? Data(contentsOf: json), let body = try? JSONDecoder().decode(ResultBody.self, from: data),
               let payload = try? Data(contentsOf: bin), payload.count == body.payloadBytes {
                entries.append(OutboxEntry(body: body, payload: Array(payload)))
            } else {
                bad.append(json.path)
            }
        }
        return (entries, bad)
    }
}
