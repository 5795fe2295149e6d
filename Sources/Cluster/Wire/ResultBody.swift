import Foundation
import Sweeps
import Trials

/// RESULT: a finished trial under a lease. The JSON body holds the scalars and each array's name and shape;
/// the array values travel as one stream of little-endian float32 bytes (arrays in order) in binary payload
/// frames of at most `Wire.chunkBytes`: the first with the RESULT, the rest as CHUNKs the coordinator PULLs.
/// Non-finite metrics cannot travel in JSON and are left out (their absence is the signal).
public struct ResultBody: Codable, Sendable, Equatable {
    public struct ArrayHeader: Codable, Sendable, Equatable {
        public var name: String
        public var shape: [Int]
    }

    public var lease: LeaseRef
    public var metrics: [String: Double]
    public var epochs: [[String: Double]]
    public var durationSeconds: Double
    public var arrays: [ArrayHeader]
    /// Total bytes of the array stream.
    public var payloadBytes: Int
    /// The checkpoint's model description when the arrays include the final weights (`runner.save_model`).
    public var modelMetadata: [String: String]?

    /// The header of `result`; `ResultBody.payload(of:)` gives the bytes.
    public init(lease: LeaseRef, result: TrialResult) {
        self.lease = lease
        metrics = result.metrics.filter { $0.value.isFinite }
        epochs = result.epochs.map { $0.filter { $0.value.isFinite } }
        durationSeconds = result.durationSeconds.isFinite ? result.durationSeconds : 0
        arrays = result.arrays.map { ArrayHeader(name: $0.name, shape: $0.shape) }
        payloadBytes = 4 * result.arrays.reduce(0) { $0 + $1.data.count }
        modelMetadata = result.modelMetadata
    }

    /// The array stream of `result`.
    public static func payload(of result: TrialResult) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(4 * result.arrays.reduce(0) { $0 + $1.data.count })
        for a in result.arrays { out.append(contentsOf: a.littleEndianBytes) }
        return out
    }

    /// Rebuilds the result from the header and the complete array stream, checking every shape.
    public func result(payload: [UInt8]) throws -> TrialResult {
        if let problem = shapeProblem { throw WireError(code: "payload", message: "result of \(lease): \(problem)") }
        guard payload.count == payloadBytes else {
            throw WireError(code: "payload", message: "result of \(lease) carries \(payload.count) array bytes, header says \(payloadBytes)")
        }
        var decoded: [NamedArray] = [], offset = 0
        for h in arrays {
            let count = h.shape.reduce(1, *)
            let bytes = Data(payload[offset..<offset + 4 * count])
            decoded.append(NamedArray(name: h.name, shape: h.shape, data: NamedArray.floats(fromLittleEndian: bytes)))
            offset += 4 * count
        }
        return TrialResult(metrics: metrics, arrays: decoded, epochs: epochs, durationSeconds: durationSeconds, modelMetadata: modelMetadata)
    }

    /// Whether the shapes are sane and add up to `payloadBytes`; nil when they do, else why not.
    public var shapeProblem: String? {
        var total = 0
        for h in arrays {
            guard !h.shape.isEmpty, h.shape.count <= 8, h.shape.allSatisfy({ $0 >= 0 && $0 <= 1 << 30 }) else {
                return "array \(LogText.clean(h.name, limit: 60)) has an invalid shape \(h.shape)"
            }
            let (count, overflow) = h.shape.reduce((1, false)) { acc, d in
                let (p, o) = acc.0.multipliedReportingOverflow(by: d)
                return (p, acc.1 || o)
            }
            guard !overflow, count <= Int.max / 8 else { return "array \(LogText.clean(h.name, limit: 60)) is too large" }
            total += 4 * count
            guard total <= Int.max / 2 else { return "arrays are too large" }
        }
        return total == payloadBytes ? nil : "array shapes need \(total) bytes, header says \(payloadBytes)"
    }
}
