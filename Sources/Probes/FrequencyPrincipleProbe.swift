import Foundation
import Networks
import TensorCore
import Trials

/// Frequency principle (Xu et al. 2019; docs/SCIENCE.md §5): how well the network fits the low- and the
/// high-frequency part of the target function on the training images.
///
/// On the first `images` training images (default 2000), flattened pixels in [0, 1]:
/// `K_ij = exp(−‖x_i − x_j‖²/(2δ))` with rows normalized to sum 1, `y` one-hot labels, `h` softmax
/// probabilities; `y_low = K y`, `y_high = y − y_low` (same for h), `e_low = ‖h_low − y_low‖_F / ‖y_low‖_F`,
/// `e_high = ‖h_high − y_high‖_F / ‖y_high‖_F`. Parameters: `delta` (default: median of the squared
/// pairwise distances ÷ `delta_divisor`, default 10). The kernel is computed once per probe instance.
/// Records every epoch by default when run by a `ProbeSuite`.
///
/// Scalars: `frequency_principle.e_low`, `frequency_principle.e_high`, `frequency_principle.delta`.
public final class FrequencyPrincipleProbe: Probe {
    /// Registry name (also the prefix of most result names).
    public static let probeName = ProbeName.frequencyPrinciple.rawValue
    public var name: String { Self.probeName }
    public let parameterNames: Set<String> = ["delta", "delta_divisor"]
    public var defaultEvery: Int? { 1 }
    /// Evaluation images when the request gives none.
    public static let defaultImages = 2000

    /// Cached kernel `[N, N]`, the images it was built on, their labels and δ.
    private var cache: (kernel: [Float], x: Tensor, labels: [Int], delta: Double)?

    /// A fresh instance (no cached state).
    public init() {}

    public func run(model: Model, data: ProbeData, options: ProbeOptions) throws -> ProbeResult {
        let train = try data.requireTrain(name, model: model)
        let n = min(train.count, try options.imageCount(Self.defaultImages))
        if cache == nil || cache?.x.shape[0] != n {
            let set = train.prefix(n)
            let (kernel, delta) = try Self.kernel(set.images, delta: options.params["delta"] != nil ? try options.double("delta", 0) : nil,
                                                  divisor: try options.double("delta_divisor", 10))
            cache = (kernel, set.images, set.labels, delta)
        }
        guard let cache else { return ProbeResult() }
        let logits = try Evaluation.logits(model, x: cache.x, batchSize: ModelEvaluation.batchSize)
        let (eLow, eHigh) = try Self.errors(kernel: cache.kernel, labels: cache.labels, probabilities: Self.softmax(logits))
        return ProbeResult(scalars: [ProbeOutput.eLow: eLow, ProbeOutput.eHigh: eHigh,
                                     ProbeOutput.frequencyPrincipleDelta: cache.delta])
    }

    /// Row-normalized Gaussian kernel `[N·N]` of flattened images and the δ used.
    public static func kernel(_ x: Tensor, delta: Double?, divisor: Double) throws -> (kernel: [Float], delta: Double) {
        let n = x.shape[0], d = x.count / max(1, n)
        var gram = [Float](repeating: 0, count: n * n)
        x.data.withUnsafeBufferPointer { a in
            gram.withUnsafeMutableBufferPointer { g in
                BLAS.gemm(transB: true, m: n, n: n, k: d, a: a.baseAddress!, lda: d, b: a.baseAddress!, ldb: d,
                          c: g.baseAddress!, ldc: n)
            }
        }
        var dist = [Double](repeating: 0, count: n * n)
        var pairs: [Double] = []
        pairs.reserveCapacity(n * (n - 1) / 2)
        for i in 0..<n {
            for j in 0..<n {
                let v = max(0, Double(gram[i * n + i]) + Double(gram[j * n + j]) - 2 * Double(gram[i * n + j]))
                dist[i * n + j] = i == j ? 0 : v
                if j > i { pairs.append(v) }
            }
        }
        let dl: Double
        if let delta { dl = delta } else {
            guard divisor > 0 else { throw ProbeError(.invalidParameter, "frequency_principle: delta_divisor must be positive") }
            dl = DiffeoStabilityProbe.median(pairs) / divisor
        }
        guard dl > 0, dl.isFinite else {
            throw ProbeError(.invalidParameter, "frequency_principle: δ must be positive (got \(dl)); are the training images all identical?")
        }
        var k = [Float](repeating: 0, count: n * n)
        for i in 0..<n {
            var s = 0.0
            for j in 0..<n { s += exp(-dist[i * n + j] / (2 * dl)) }
            for j in 0..<n { k[i * n + j] = Float(exp(-dist[i * n + j] / (2 * dl)) / s) }
        }
        return (k, dl)
    }

    /// Softmax of `[N, K]` logits, row by row.
    public static func softmax(_ logits: Tensor) -> [Float] {
        let n = logits.shape[0], k = logits.shape[1]
        var p = [Float](repeating: 0, count: n * k)
        for i in 0..<n {
            let row = logits.data[(i * k)..<((i + 1) * k)]
            let m = row.max() ?? 0
            var s: Float = 0
            for l in 0..<k { p[i * k + l] = exp(logits.data[i * k + l] - m); s += p[i * k + l] }
            for l in 0..<k { p[i * k + l] /= s }
        }
        return p
    }

    /// `(e_low, e_high)` for a kernel `[N·N]`, labels and probabilities `[N·K]`.
    public static func errors(kernel: [Float], labels: [Int], probabilities h: [Float]) throws -> (Double, Double) {
        let n = labels.count
        guard n > 0, kernel.count == n * n, h.count % n == 0 else {
            throw ProbeError(.invalidData, "frequency_principle: kernel, labels and outputs disagree in size")
        }
        let k = h.count / n
        var y = [Float](repeating: 0, count: n * k)
        for (i, l) in labels.enumerated() where l < k { y[i * k + l] = 1 }
        var yLow = [Float](repeating: 0, count: n * k), hLow = yLow
        for (src, dst) in [(y, 0), (h, 1)] {
            var out = [Float](repeating: 0, count: n * k)
            kernel.withUnsafeBufferPointer { kp in
                src.withUnsafeBufferPointer { sp in
                    out.withUnsafeMutableBufferPointer { op in
                        BLAS.gemm(m: n, n: k, k: n, a: kp.baseAddress!, lda: n, b: sp.baseAddress!, ldb: k, c: op.baseAddress!, ldc: k)
                    }
                }
            }
            if dst == 0 { yLow = out } else { hLow = out }
        }
        var lowNum = 0.0, lowDen = 0.0, highNum = 0.0, highDen = 0.0
        for q in 0..<(n * k) {
            let dl = Double(hLow[q] - yLow[q])
            let yh = Double(y[q] - yLow[q]), hh = Double(h[q] - hLow[q])
            lowNum += dl * dl; lowDen += Double(yLow[q]) * Double(yLow[q])
            highNum += (hh - yh) * (hh - yh); highDen += yh * yh
        }
        return ((lowNum / lowDen).squareRoot(), (highNum / highDen).squareRoot())
    }
}
