import TensorCore
import Trials

/// What a probe measured: named scalars (go to the results table) and named Float32 arrays (go to `.npy`).
///
/// Names are dotted (`alignment.pearson`, `sensitivity.map`); every probe documents its names and shapes.
/// Values recorded during training carry an epoch suffix `@e<epoch>` (`sensitivity.radial@e3`).
public struct ProbeResult: Sendable {
    /// Named numbers (NaN when undefined, e.g. a correlation of a constant curve).
    public var scalars: [String: Double]
    /// Named Float32 arrays, shapes as documented by each probe.
    public var arrays: [String: Tensor]

    public init(scalars: [String: Double] = [:], arrays: [String: Tensor] = [:]) {
        self.scalars = scalars
        self.arrays = arrays
    }

    /// Adds `other`'s values, appending `suffix` to every name; later values win on a name clash.
    public mutating func merge(_ other: ProbeResult, suffix: String = "") {
        for (k, v) in other.scalars { scalars[k + suffix] = v }
        for (k, v) in other.arrays { arrays[k + suffix] = v }
    }

    /// The suffix for values recorded after epoch `epoch` (1-based; 0 = before training).
    public static func epochSuffix(_ epoch: Int) -> String { ProbeOutput.epochSuffix(epoch) }
}

/// A probe parameter as it comes from a sweep file (`params:`), kept JSON-shaped and untyped until a
/// probe reads it, so the Sweeps layer needs no knowledge of each probe.
public enum ProbeValue: Sendable, Hashable {
    case number(Double)
    case string(String)
    case bool(Bool)
    case list([ProbeValue])
}

/// How one probe runs: image budget, compat mode, seed and its own parameters.
public struct ProbeOptions: Sendable {
    /// Clean definitions (default) or the published code's quirks (docs/SCIENCE.md §10 lists them).
    public typealias Compat = Trials.Compat

    /// Evaluation images; nil = the probe's documented default.
    public var images: Int?
    public var compat: Compat
    /// Probe-specific parameters; every probe rejects names it does not know.
    public var params: [String: ProbeValue]
    /// Seed for subsets, random signs and deformations (derive it from the trial seed).
    public var seed: UInt64

    public init(images: Int? = nil, compat: Compat = .clean, params: [String: ProbeValue] = [:], seed: UInt64 = 0) {
        self.images = images
        self.compat = compat
        self.params = params
        self.seed = seed
    }

    /// A number parameter, or `fallback` when absent.
    public func double(_ key: String, _ fallback: Double) throws -> Double {
        guard let v = params[key] else { return fallback }
        guard case .number(let d) = v, d.isFinite else {
            throw ProbeError(.invalidParameter, "probe parameter '\(key)' must be a finite number, got \(v)")
        }
        return d
    }

    /// An integer parameter, or `fallback` when absent.
    public func int(_ key: String, _ fallback: Int) throws -> Int {
        guard params[key] != nil else { return fallback }
        let d = try double(key, 0)
        guard d == d.rounded(), abs(d) < 1e15 else {
            throw ProbeError(.invalidParameter, "probe parameter '\(key)' must be an integer, got \(d)")
        }
        return Int(d)
    }

    /// A list of numbers (a single number counts as a list of one), or `fallback` when absent.
    public func doubles(_ key: String, _ fallback: [Double]) throws -> [Double] {
        guard let v = params[key] else { return fallback }
        switch v {
        case .number(let d) where d.isFinite: return [d]
        case .list(let items):
            return try items.map {
                guard case .number(let d) = $0, d.isFinite else {
                    throw ProbeError(.invalidParameter, "probe parameter '\(key)' must be a list of numbers, got \(v)")
                }
                return d
            }
        default: throw ProbeError(.invalidParameter, "probe parameter '\(key)' must be a list of numbers, got \(v)")
        }
    }

    /// A boolean parameter, or `fallback` when absent.
    public func bool(_ key: String, _ fallback: Bool) throws -> Bool {
        guard let v = params[key] else { return fallback }
        guard case .bool(let b) = v else {
            throw ProbeError(.invalidParameter, "probe parameter '\(key)' must be true or false, got \(v)")
        }
        return b
    }

    /// The image budget, checked positive, or `fallback`.
    func imageCount(_ fallback: Int) throws -> Int {
        guard let n = images else { return fallback }
        guard n > 0 else { throw ProbeError(.invalidParameter, "probe images must be positive, got \(n)") }
        return n
    }
}
