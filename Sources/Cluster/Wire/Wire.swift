import Foundation
import Sweeps
import Trials

/// The fsweep wire protocol: every message is `["FSW2", COMMAND, JSON body]`, plus one binary payload frame for
/// RESULT and CHUNK (a ROUTER prepends the peer's routing id). Decoding is total: bad input becomes a
/// `WireError`, never a crash. Sizes are bounded per command, so a peer cannot make the coordinator parse or
/// hold more than a small, stated amount per message.
public enum Wire {
    /// Protocol version tag, the first frame of every message.
    public static let version = "FSW2"
    /// Largest binary payload frame: result arrays travel in chunks of at most this many bytes.
    public static let chunkBytes = 1 << 20
    /// Largest JSON body of a RESULT (metrics and per-epoch rows; array values travel in the payload).
    public static let maxResultBodyBytes = 1 << 20
    /// Largest JSON body of every other command.
    public static let maxBodyBytes = 64 << 10
    /// Largest frame a socket accepts (libzmq drops a peer that sends a bigger one before we see it).
    public static let maxFrameBytes = max(chunkBytes, maxResultBodyBytes) + 4096

    /// The body limit of `command`.
    public static func bodyLimit(_ command: Command) -> Int {
        command == .result ? maxResultBodyBytes : maxBodyBytes
    }

    /// Encodes a message as its frames.
    public static func encode(_ message: Message) -> [[UInt8]] {
        var frames = [Array(version.utf8), Array(message.command.rawValue.utf8), Array(body(of: message))]
        switch message {
        case .result(_, let payload), .chunk(_, let payload): frames.append(payload)
        default: break
        }
        return frames
    }

    private static func body(of message: Message) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do {
            switch message {
            case .ready(let b): return try encoder.encode(b)
            case .lease(let b): return try encoder.encode(b)
            case .heartbeat(let b): return try encoder.encode(b)
            case .progress(let b): return try encoder.encode(b)
            case .result(let b, _): return try encoder.encode(b)
            case .pull(let b): return try encoder.encode(b)
            case .chunk(let b, _): return try encoder.encode(b)
            case .ack(let b): return try encoder.encode(b)
            case .fail(let b): return try encoder.encode(b)
            case .cancel(let b): return try encoder.encode(b)
            case .disconnect(let b): return try encoder.encode(b)
            case .status(let b): return try encoder.encode(b)
            case .error(let b): return try encoder.encode(b)
            }
        } catch {
            // Our Codable structs of strings and finite numbers always encode (non-finite metrics are dropped
            // before they get here); an empty object is refused by the receiver as malformed.
            return Data("{}".utf8)
        }
    }

    /// Decodes frames into a message or says precisely why not.
    public static func decode(_ frames: [[UInt8]]) -> Result<Message, WireError> {
        framing(frames).flatMap { command in
            do {
                let carriesPayload = frames.count == 4
                return .success(try decodeBody(command, Data(frames[2]), payload: carriesPayload ? frames[3] : []))
            } catch {
                return .failure(WireError(code: "body", message: "malformed \(command.rawValue) body", cause: LogText.clean("\(error)", limit: 300)))
            }
        }
    }

    /// The command of frames whose framing is sound (version, command, frame count, sizes), or why it is not:
    /// everything short of the body's JSON.
    static func framing(_ frames: [[UInt8]]) -> Result<Command, WireError> {
        guard frames.count == 3 || frames.count == 4 else {
            return .failure(WireError(code: "frames", message: "expected 3 or 4 frames, got \(frames.count)"))
        }
        guard frames[0] == Array(version.utf8) else {
            let got = LogText.clean(String(decoding: frames[0].prefix(16), as: UTF8.self))
            return .failure(WireError(code: "version", message: "unsupported protocol version '\(got)', expected \(version); run the same fsweep version on coordinator and workers"))
        }
        guard let command = Command(rawValue: String(decoding: frames[1].prefix(32), as: UTF8.self)) else {
            let got = LogText.clean(String(decoding: frames[1].prefix(32), as: UTF8.self))
            return .failure(WireError(code: "command", message: "unknown command '\(got)'"))
        }
        guard frames[2].count <= bodyLimit(command) else {
            return .failure(WireError(code: "size", message: "\(command.rawValue) body of \(frames[2].count) bytes exceeds \(bodyLimit(command))"))
        }
        let carriesPayload = command == .result || command == .chunk
        guard (frames.count == 4) == carriesPayload else {
            return .failure(WireError(code: "frames", message: "\(command.rawValue) takes \(carriesPayload ? 4 : 3) frames, got \(frames.count)"))
        }
        if carriesPayload && frames[3].count > chunkBytes {
            return .failure(WireError(code: "size", message: "\(command.rawValue) payload of \(frames[3].count) bytes exceeds \(chunkBytes)"))
        }
        return .success(command)
    }

    private static func decodeBody(_ command: Command, _ data: Data, payload: [UInt8]) throws -> Message {
        let d = JSONDecoder()
        switch command {
        case .ready: return .ready(try d.decode(Ready.self, from: data))
        case .lease: return .lease(try d.decode(Lease.self, from: data))
        case .heartbeat: return .heartbeat(try d.decode(Heartbeat.self, from: data))
        case .progress: return .progress(try d.decode(ProgressBody.self, from: data))
        case .result: return .result(try d.decode(ResultBody.self, from: data), payload: payload)
        case .pull: return .pull(try d.decode(Pull.self, from: data))
        case .chunk: return .chunk(try d.decode(Chunk.self, from: data), payload: payload)
        case .ack: return .ack(try d.decode(Ack.self, from: data))
        case .fail: return .fail(try d.decode(FailBody.self, from: data))
        case .cancel: return .cancel(try d.decode(Cancel.self, from: data))
        case .disconnect: return .disconnect(try d.decode(Disconnect.self, from: data))
        case .status: return .status(try d.decode(StatusBody.self, from: data))
        case .error: return .error(try d.decode(ErrorBody.self, from: data))
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
    case pull = "PULL", chunk = "CHUNK"
    case ack = "ACK", fail = "FAIL", cancel = "CANCEL", disconnect = "DISCONNECT", status = "STATUS", error = "ERROR"
}

/// One decoded protocol message.
public enum Message: Sendable, Equatable {
    case ready(Ready)
    case lease(Lease)
    case heartbeat(Heartbeat)
    case progress(ProgressBody)
    /// A finished trial's header and the first chunk of its array bytes.
    case result(ResultBody, payload: [UInt8])
    /// Coordinator → worker: send the result bytes from `offset` on.
    case pull(Pull)
    /// Worker → coordinator: result bytes at `offset`.
    case chunk(Chunk, payload: [UInt8])
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
        case .pull: return .pull
        case .chunk: return .chunk
        case .ack: return .ack
        case .fail: return .fail
        case .cancel: return .cancel
        case .disconnect: return .disconnect
        case .status: return .status
        case .error: return .error
        }
    }
}
