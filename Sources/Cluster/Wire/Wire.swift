import Foundation

/// The fsweep wire protocol: every message is three frames, `["FSW1", COMMAND, JSON body]` (a ROUTER
/// prepends the peer's routing id). Decoding is total: bad input becomes a `WireError`, never a crash.
public enum Wire {
    /// Protocol version tag, the first frame of every message.
    public static let version = "FSW1"
    /// Bodies larger than this are refused (arrays of a trial fit well below it).
    public static let maxBodyBytes = 32 << 20

    /// Encodes a message as its three frames.
    public static func encode(_ message: Message) -> [[UInt8]] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let body: Data
        do {
            switch message {
            case .ready(let b): body = try encoder.encode(b)
            case .lease(let b): body = try encoder.encode(b)
            case .heartbeat(let b): body = try encoder.encode(b)
            case .progress(let b): body = try encoder.encode(b)
            case .result(let b): body = try encoder.encode(b)
            case .ack(let b): body = try encoder.encode(b)
            case .fail(let b): body = try encoder.encode(b)
            case .cancel(let b): body = try encoder.encode(b)
            case .disconnect(let b): body = try encoder.encode(b)
            case .status(let b): body = try encoder.encode(b)
            case .error(let b): body = try encoder.encode(b)
            }
        } catch {
            // Our own Codable structs of strings and finite numbers always encode; NaN metrics are
            // replaced before sending (see `WireResult.sanitized`). Fall back to an empty object.
            body = Data("{}".utf8)
        }
        return [Array(version.utf8), Array(message.command.rawValue.utf8), Array(body)]
    }

    /// Decodes three frames into a message or says precisely why not.
    public static func decode(_ frames: [[UInt8]]) -> Result<Message, WireError> {
        guard frames.count == 3 else { return .failure(WireError(code: "frames", message: "expected 3 frames, got \(frames.count)")) }
        guard frames[0] == Array(version.utf8) else {
            let got = String(decoding: frames[0].prefix(16), as: UTF8.self)
            return .failure(WireError(code: "version", message: "unsupported protocol version '\(got)', expected \(version)"))
        }
        guard let command = Command(rawValue: String(decoding: frames[1].prefix(32), as: UTF8.self)) else {
            let got = String(decoding: frames[1].prefix(32), as: UTF8.self)
            return .failure(WireError(code: "command", message: "unknown command '\(got)'"))
        }
        guard frames[2].count <= maxBodyBytes else {
            return .failure(WireError(code: "size", message: "body of \(frames[2].count) bytes exceeds \(maxBodyBytes)"))
        }
        let data = Data(frames[2])
        let d = JSONDecoder()
        do {
            switch command {
            case .ready: return .success(.ready(try d.decode(Ready.self, from: data)))
            case .lease: return .success(.lease(try d.decode(LeaseBody.self, from: data)))
            case .heartbeat: return .success(.heartbeat(try d.decode(Heartbeat.self, from: data)))
            case .progress: return .success(.progress(try d.decode(ProgressBody.self, from: data)))
            case .result: return .success(.result(try d.decode(ResultBody.self, from: data)))
            case .ack: return .success(.ack(try d.decode(Ack.self, from: data)))
            case .fail: return .success(.fail(try d.decode(FailBody.self, from: data)))
            case .cancel: return .success(.cancel(try d.decode(Cancel.self, from: data)))
            case .disconnect: return .success(.disconnect(try d.decode(Disconnect.self, from: data)))
            case .status: return .success(.status(try d.decode(StatusBody.self, from: data)))
            case .error: return .success(.error(try d.decode(ErrorBody.self, from: data)))
            }
        } catch {
            return .failure(WireError(code: "body", message: "malformed \(command.rawValue) body", cause: "\(error)"))
        }
    }
}

/// Why a message could not be decoded.
public struct WireError: Error, Sendable, Equatable {
    public var code: String
    public var message: String
    public var cause: String?

    public init(code: String, message: String, cause: String? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }
}

/// Protocol commands (the second frame).
public enum Command: String, Sendable, CaseIterable {
    case ready = "READY", lease = "LEASE", heartbeat = "HEARTBEAT", progress = "PROGRESS", result = "RESULT"
    case ack = "ACK", fail = "FAIL", cancel = "CANCEL", disconnect = "DISCONNECT", status = "STATUS", error = "ERROR"
}

/// One decoded protocol message.
public enum Message: Sendable, Equatable {
    case ready(Ready)
    case lease(LeaseBody)
    case heartbeat(Heartbeat)
    case progress(ProgressBody)
    case result(ResultBody)
    case ack(Ack)
    case fail(FailBody)
    case cancel(Cancel)
    case disconnect(Disconnect)
    case status(StatusBody)
    case error(ErrorBody)

    public var command: Command {
        switch self {
        case .ready: return .ready
        case .lease: return .lease
        case .heartbeat: return .heartbeat
        case .progress: return .progress
        case .result: return .result
        case .ack: return .ack
        case .fail: return .fail
        case .cancel: return .cancel
        case .disconnect: return .disconnect
        case .status: return .status
        case .error: return .error
        }
    }
}

/// A trial a worker is running, reported in READY after a reconnect so the coordinator can re-adopt it.
public struct RunningTrial: Codable, Sendable, Equatable {
    public var trialID: String
    public var attempt: Int
    public init(trialID: String, attempt: Int) {
        self.trialID = trialID
        self.attempt = attempt
    }
}

/// READY: a worker announces itself and its capabilities.
public struct Ready: Codable, Sendable, Equatable {
    public var workerID: String
    public var host: String
    public var cores: Int
    public var version: String
    public var running: RunningTrial?
    public init(workerID: String, host: String, cores: Int, version: String, running: RunningTrial? = nil) {
        self.workerID = workerID
        self.host = host
        self.cores = cores
        self.version = version
        self.running = running
    }
}

/// LEASE: run this trial; the config is the canonical trial JSON.
public struct LeaseBody: Codable, Sendable, Equatable {
    public var trialID: String
    public var configJSON: String
    public var attempt: Int
    /// Lease deadline as seconds since 1970 (renewed by heartbeats).
    public var deadline: Double
    public init(trialID: String, configJSON: String, attempt: Int, deadline: Double) {
        self.trialID = trialID
        self.configJSON = configJSON
        self.attempt = attempt
        self.deadline = deadline
    }
}

/// HEARTBEAT: liveness both ways; from a worker it carries the running trial's progress counter.
public struct Heartbeat: Codable, Sendable, Equatable {
    public var trialID: String?
    /// Monotone counter the training thread bumps (epochs and batches); stalls reveal a hung trial.
    public var progress: Int?
    public init(trialID: String? = nil, progress: Int? = nil) {
        self.trialID = trialID
        self.progress = progress
    }
}

/// PROGRESS: one finished epoch's metrics.
public struct ProgressBody: Codable, Sendable, Equatable {
    public var trialID: String
    public var attempt: Int
    public var epoch: Int
    public var epochs: Int
    public var metrics: [String: Double]
    public init(trialID: String, attempt: Int, epoch: Int, epochs: Int, metrics: [String: Double]) {
        self.trialID = trialID
        self.attempt = attempt
        self.epoch = epoch
        self.epochs = epochs
        self.metrics = metrics
    }
}

/// A named array on the wire: shape plus little-endian Float32 data, base64 in JSON.
public struct WireArray: Codable, Sendable, Equatable {
    public var name: String
    public var shape: [Int]
    public var data: [Float]

    public init(name: String, shape: [Int], data: [Float]) {
        self.name = name
        self.shape = shape
        self.data = data
    }

    enum CodingKeys: String, CodingKey { case name, shape, dtype, data }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        shape = try c.decode([Int].self, forKey: .shape)
        let b64 = try c.decode(String.self, forKey: .data)
        guard let bytes = Data(base64Encoded: b64), bytes.count % 4 == 0 else {
            throw DecodingError.dataCorruptedError(forKey: .data, in: c, debugDescription: "array data is not base64 of float32")
        }
        var out = [Float](repeating: 0, count: bytes.count / 4)
        bytes.withUnsafeBytes { raw in
            for i in 0..<out.count {
                out[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
            }
        }
        let count = shape.reduce(1, *)
        guard count == out.count else {
            throw DecodingError.dataCorruptedError(forKey: .data, in: c, debugDescription: "array \(name): shape \(shape) needs \(count) values, got \(out.count)")
        }
        data = out
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(shape, forKey: .shape)
        try c.encode("float32", forKey: .dtype)
        var bytes = [UInt8](repeating: 0, count: data.count * 4)
        for (i, v) in data.enumerated() {
            let bits = v.bitPattern.littleEndian
            bytes[4 * i] = UInt8(truncatingIfNeeded: bits)
            bytes[4 * i + 1] = UInt8(truncatingIfNeeded: bits >> 8)
            bytes[4 * i + 2] = UInt8(truncatingIfNeeded: bits >> 16)
            bytes[4 * i + 3] = UInt8(truncatingIfNeeded: bits >> 24)
        }
        try c.encode(Data(bytes).base64EncodedString(), forKey: .data)
    }
}

/// A trial's outcome as it travels and as it sits in the worker's outbox.
public struct WireResult: Codable, Sendable, Equatable {
    public var metrics: [String: Double]
    public var arrays: [WireArray]
    public var epochs: [[String: Double]]
    public var durationSeconds: Double

    public init(metrics: [String: Double], arrays: [WireArray] = [], epochs: [[String: Double]] = [], durationSeconds: Double) {
        self.metrics = metrics
        self.arrays = arrays
        self.epochs = epochs
        self.durationSeconds = durationSeconds
    }

    /// JSON cannot carry NaN/∞: non-finite metrics are dropped (their absence is the signal).
    public var sanitized: WireResult {
        var r = self
        r.metrics = metrics.filter { $0.value.isFinite }
        r.epochs = epochs.map { $0.filter { $0.value.isFinite } }
        if !durationSeconds.isFinite { r.durationSeconds = 0 }
        return r
    }
}

/// RESULT: a finished trial (idempotent: a duplicate gets a no-op ACK).
public struct ResultBody: Codable, Sendable, Equatable {
    public var trialID: String
    public var attempt: Int
    public var result: WireResult
    public init(trialID: String, attempt: Int, result: WireResult) {
        self.trialID = trialID
        self.attempt = attempt
        self.result = result
    }
}

/// ACK: the result for `trialID` is durable; the worker may drop it from its outbox.
public struct Ack: Codable, Sendable, Equatable {
    public var trialID: String
    public var duplicate: Bool
    public init(trialID: String, duplicate: Bool = false) {
        self.trialID = trialID
        self.duplicate = duplicate
    }
}

/// FAIL: the trial could not finish; `retryable` false marks deterministic failures.
public struct FailBody: Codable, Sendable, Equatable {
    public var trialID: String
    public var attempt: Int
    public var reason: String
    public var retryable: Bool
    public init(trialID: String, attempt: Int, reason: String, retryable: Bool) {
        self.trialID = trialID
        self.attempt = attempt
        self.reason = reason
        self.retryable = retryable
    }
}

/// CANCEL: stop running `trialID` (stalled, or the coordinator is shutting down).
public struct Cancel: Codable, Sendable, Equatable {
    public var trialID: String
    public var reason: String
    public init(trialID: String, reason: String) {
        self.trialID = trialID
        self.reason = reason
    }
}

/// DISCONNECT: the sender is going away; from the coordinator with `sweepDone` it means "exit now".
public struct Disconnect: Codable, Sendable, Equatable {
    public var reason: String
    public var sweepDone: Bool
    public init(reason: String, sweepDone: Bool) {
        self.reason = reason
        self.sweepDone = sweepDone
    }
}

/// STATUS: empty request from a client; the reply carries the store's status JSON.
public struct StatusBody: Codable, Sendable, Equatable {
    /// Status JSON (the store's `SweepStatus` plus live worker counts); absent in requests.
    public var statusJSON: String?
    public init(statusJSON: String? = nil) { self.statusJSON = statusJSON }
}

/// ERROR: the coordinator could not use a message (bad version, malformed, not registered).
public struct ErrorBody: Codable, Sendable, Equatable {
    public var code: String
    public var message: String
    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }
}
