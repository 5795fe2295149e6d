import Foundation

/// The worker's on-disk outbox: one JSON file per unacknowledged result, written atomically before
/// the result is sent and deleted when the coordinator ACKs it, so no result is lost to a crash.
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

    private func path(_ trialID: String) -> String {
        let safe = trialID.filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }
        return (directory as NSString).appendingPathComponent("\(safe).json")
    }

    /// Writes (replacing) one result.
    public func persist(_ body: ResultBody) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do {
            try encoder.encode(body).write(to: URL(fileURLWithPath: path(body.trialID)), options: .atomic)
        } catch {
            throw ClusterError(code: "outbox", message: "cannot write result \(body.trialID) to the outbox", cause: "\(error)")
        }
    }

    /// Deletes an acknowledged result.
    public func remove(_ trialID: String) {
        try? FileManager.default.removeItem(atPath: path(trialID))
    }

    /// Every stored result; unreadable files are skipped and reported.
    public func load() -> (results: [ResultBody], unreadable: [String]) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var results: [ResultBody] = [], bad: [String] = []
        for name in names.sorted() where name.hasSuffix(".json") {
            let p = (directory as NSString).appendingPathComponent(name)
            if let data = FileManager.default.contents(atPath: p), let body = try? JSONDecoder().decode(ResultBody.self, from: data) {
                results.append(body)
            } else {
                bad.append(p)
            }
        }
        return (results, bad)
    }
}
