import TensorCore

/// Batch normalization over `[N, C, H, W]` per channel, PyTorch semantics: training uses batch
/// statistics (biased variance) and updates running mean / unbiased running variance with
/// `momentum`; evaluation uses the running statistics. `gamma`/`beta` are not weight-decayed.
///
/// With `relu` the layer also applies the ReLU that follows it in every network here, in the same
/// pass: a separate ReLU layer read and wrote the whole activation once more in each direction
/// (≈5% of a Myrtle training step). The ReLU has no parameters, so names and checkpoints are unchanged.
public final class BatchNorm2D: Layer {
    public let gamma: Parameter
    public let beta: Parameter
    public let runningMean: Parameter
    public let runningVar: Parameter
    public let momentum: Float
    public let eps: Float
    /// Whether `max(·, 0)` follows the normalization (NaN kept, as `ReLU` does).
    public let relu: Bool

    // Forward cache: the input (x̂ is recomputed from it in backward instead of being stored: one
    // write pass less), the per-channel mean and 1/sqrt(var+eps) used, and the mode.
    private var input = Tensor(zeros: [0])
    private var mean: [Float] = []
    private var invStd: [Float] = []
    private var lastMode: Mode = .eval

    public init(channels: Int, name: String, momentum: Float = 0.1, eps: Float = 1e-5, relu: Bool = false) {
        gamma = Parameter("\(name).weight", Tensor(repeating: 1, shape: [channels]), decays: false)
        beta = Parameter("\(name).bias", Tensor(zeros: [channels]), decays: false)
        runningMean = Parameter("\(name).running_mean", Tensor(zeros: [channels]), decays: false)
        runningVar = Parameter("\(name).running_var", Tensor(repeating: 1, shape: [channels]), decays: false)
        self.momentum = momentum
        self.eps = eps
        self.relu = relu
    }

    public var parameters: [Parameter] { [gamma, beta] }
    public var buffers: [Parameter] { [runningMean, runningVar] }

    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        let c = gamma.value.count
        try x.expectShape([-1, c, -1, -1], "BatchNorm2D(\(gamma.name)) input")
        let n = x.shape[0], plane = x.shape[2] * x.shape[3], m = n * plane
        var mean = [Float](repeating: 0, count: c), variance = mean
        if mode == .train {
            guard m > 1 else { throw TensorError(.invalidArgument, "BatchNorm2D in training needs more than one value per channel, got input \(x.shape)") }
            var sums = [Double](repeating: 0, count: 2 * c)
            x.data.withUnsafeBufferPointer { xb in
            sums.withUnsafeMutableBufferPointer { sb in
                // Non-empty (m > 1), so base addresses exist; chunks write disjoint channels.
                let xp = xb.baseAddress!, sp = sb.baseAddress!
                Parallel.forChunks(c) { channels in
                    for ch in channels {
                        var s = 0.0, sq = 0.0
                        for b in 0..<n {
                            let (ps, psq) = BatchNorm2D.planeSums(xp + (b * c + ch) * plane, plane)
                            s += ps; sq += psq
                        }
                        sp[2 * ch] = s; sp[2 * ch + 1] = sq
                    }
                }
            }}
            for ch in 0..<c {
                let mu = sums[2 * ch] / Double(m)
                mean[ch] = Float(mu)
                variance[ch] = Float(max(sums[2 * ch + 1] / Double(m) - mu * mu, 0))
                runningMean.value.data[ch] = (1 - momentum) * runningMean.value.data[ch] + momentum * mean[ch]
                let unbiased = variance[ch] * Float(m) / Float(m - 1)
                runningVar.value.data[ch] = (1 - momentum) * runningVar.value.data[ch] + momentum * unbiased
            }
        } else {
            mean = runningMean.value.data
            variance = runningVar.value.data
        }
        self.mean = mean
        invStd = variance.map { 1 / ($0 + eps).squareRoot() }
        lastMode = mode
        input = x
        var y = Tensor(uninitialized: x.shape)  // every element written below
        guard m > 0 else { return y }
        let g = gamma.value.data, bt = beta.value.data, inv = invStd, relu = relu
        x.data.withUnsafeBufferPointer { xb in
        y.data.withUnsafeMutableBufferPointer { yb in
            // Non-empty (m > 0); chunks write disjoint planes.
            let xp = xb.baseAddress!, yp = yb.baseAddress!
            Parallel.forChunks(n * c) { planes in
                for pl in planes {
                    let ch = pl % c
                    let f = Affine(mean: mean[ch], invStd: inv[ch], gamma: g[ch], beta: bt[ch], relu: relu)
                    f.apply(xp + pl * plane, yp + pl * plane, count: plane)
                }
            }
        }}
        return y
    }

    public func backward(_ dy: Tensor, parameterGradients: Bool) throws -> Tensor {
        guard dy.shape == input.shape else {
            throw TensorError(.shapeMismatch, "BatchNorm2D.backward: gradient \(dy.shape) does not match input \(input.shape)")
        }
        let c = gamma.value.count, n = dy.shape[0], plane = dy.shape[2] * dy.shape[3], m = Float(n * plane)
        var dx = Tensor(uninitialized: dy.shape)  // every element written below
        guard n * plane > 0 else { return dx }
        var sums = [Double](repeating: 0, count: 2 * c)
        let g = gamma.value.data, bt = beta.value.data, inv = invStd, mean = mean, relu = relu
        let train = lastMode == .train
        // The sums feed the batch-statistics terms (training) and the parameter gradients; evaluation-mode
        // input gradients (the probes) need neither.
        let needSums = train || parameterGradients
        dy.data.withUnsafeBufferPointer { db in
        input.data.withUnsafeBufferPointer { xb in
        dx.data.withUnsafeMutableBufferPointer { dxb in
        sums.withUnsafeMutableBufferPointer { sb in
            // Non-empty (n·plane > 0); chunks write disjoint channels.
            let dyp = db.baseAddress!, xp = xb.baseAddress!, dxp = dxb.baseAddress!, sp = sb.baseAddress!
            Parallel.forChunks(c) { channels in
                for ch in channels {
                    let f = Affine(mean: mean[ch], invStd: inv[ch], gamma: g[ch], beta: bt[ch], relu: relu)
                    var sumDy = 0.0, sumDyXhat = 0.0
                    if needSums {
                        for b in 0..<n {
                            let base = (b * c + ch) * plane
                            let (s1, s2) = f.gradientSums(xp + base, dyp + base, count: plane)
                            sumDy += s1; sumDyXhat += s2
                        }
                    }
                    sp[2 * ch] = sumDy; sp[2 * ch + 1] = sumDyXhat
                    let meanDy = train ? Float(sumDy) / m : 0, meanDyXhat = train ? Float(sumDyXhat) / m : 0
                    for b in 0..<n {
                        let base = (b * c + ch) * plane
                        f.inputGradient(xp + base, dyp + base, dxp + base, count: plane, meanDy: meanDy, meanDyXhat: meanDyXhat)
                    }
                }
            }
        }}}}
        if parameterGradients {
            for ch in 0..<c {
                gamma.grad.data[ch] += Float(sums[2 * ch + 1])
                beta.grad.data[ch] += Float(sums[2 * ch])
            }
        }
        return dx
    }

    /// One channel's map `x ↦ γ·(x − μ)/σ + β` (then `max(·, 0)` with `relu`) and its gradients,
    /// with x̂ and the ReLU mask recomputed from x by the same operations (`xhat`, `masked`) in every pass.
    struct Affine {
        typealias V = SIMD8<Float>
        let mean, invStd, gamma, beta: Float
        let relu: Bool

        @inline(__always) func xhat(_ x: Float) -> Float { (x - mean) * invStd }
        @inline(__always) func xhat(_ x: V) -> V { (x - V(repeating: mean)) * V(repeating: invStd) }
        /// The map of a plain ReLU (`passes` ⇔ x > 0, `slope` the identity), so both gates share one form.
        static let relu = Affine(mean: 0, invStd: 1, gamma: 1, beta: 0, relu: true)
        /// Whether the gradient at input `x` gets through: the output `γ·x̂ + β` is positive (always without
        /// `relu`), as in `ReLU.backward`.
        @inline(__always) func passes(_ x: Float) -> Bool { passes(xhat: xhat(x)) }
        @inline(__always) func passes(xhat v: Float) -> Bool { !relu || v * gamma + beta > 0 }
        /// `∂y/∂x` where the gradient passes: γ/σ.
        var scale: Float { gamma * invStd }
        /// The evaluation-mode input gradient of a passing entry, as `inputGradient` computes it with zero means.
        @inline(__always) func slope(_ dy: Float) -> Float { scale * dy }
        /// `dy` where `passes`, else 0.
        @inline(__always) func masked(_ dy: Float, xhat v: Float) -> Float { passes(xhat: v) ? dy : 0 }
        @inline(__always) func masked(_ dy: V, xhat v: V) -> V {
            relu ? V().replacing(with: dy, where: v * V(repeating: gamma) + V(repeating: beta) .> V()) : dy
        }

        /// `y = f(x)` over `count` values.
        @inline(__always)
        func apply(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
            let vg = V(repeating: gamma), vb = V(repeating: beta), zero = V()
            var i = 0
            while i + 8 <= count {
                var o = xhat(UnsafeRawPointer(x + i).loadUnaligned(as: V.self)) * vg + vb
                if relu { o = o.replacing(with: zero, where: o .< zero) }  // NaN < 0 is false: NaN kept
                UnsafeMutableRawPointer(y + i).storeBytes(of: o, as: V.self)
                i += 8
            }
            while i < count {
                let o = xhat(x[i]) * gamma + beta
                y[i] = relu && o < 0 ? 0 : o
                i += 1
            }
        }

        /// `(Σ d, Σ d·x̂)` with `d = masked(dy)`.
        @inline(__always)
        func gradientSums(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, count: Int) -> (Double, Double) {
            var s = V(), sx = V(), i = 0
            while i + 8 <= count {
                let v = xhat(UnsafeRawPointer(x + i).loadUnaligned(as: V.self))
                let d = masked(UnsafeRawPointer(dy + i).loadUnaligned(as: V.self), xhat: v)
                s += d; sx = sx.addingProduct(d, v)
                i += 8
            }
            var ts = Double(s.sum()), tx = Double(sx.sum())
            while i < count {
                let v = xhat(x[i]), d = masked(dy[i], xhat: v)
                ts += Double(d); tx += Double(d * v)
                i += 1
            }
            return (ts, tx)
        }

        /// `dx = γ/σ · (d − meanDy − x̂·meanDyXhat)`, `d = masked(dy)`.
        @inline(__always)
        func inputGradient(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>,
                           count: Int, meanDy: Float, meanDyXhat: Float) {
            let vs = V(repeating: scale), vmd = V(repeating: meanDy), vmx = V(repeating: meanDyXhat)
            var i = 0
            while i + 8 <= count {
                let v = xhat(UnsafeRawPointer(x + i).loadUnaligned(as: V.self))
                let d = masked(UnsafeRawPointer(dy + i).loadUnaligned(as: V.self), xhat: v)
                UnsafeMutableRawPointer(dx + i).storeBytes(of: vs * (d - vmd - v * vmx), as: V.self)
                i += 8
            }
            while i < count {
                let v = xhat(x[i])
                dx[i] = scale * (masked(dy[i], xhat: v) - meanDy - v * meanDyXhat)
                i += 1
            }
        }
    }

    /// Sum and sum of squares of one plane: 8-lane Float partials (a plane holds ≤ a few thousand
    /// values), returned in Double for the across-batch accumulation.
    @inline(__always)
    static func planeSums(_ x: UnsafePointer<Float>, _ count: Int) -> (Double, Double) {
        var s = SIMD8<Float>(), sq = SIMD8<Float>(), i = 0
        while i + 8 <= count {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            s += v; sq = sq.addingProduct(v, v); i += 8
        }
        var ts = Double(s.sum()), tsq = Double(sq.sum())
        while i < count { let v = Double(x[i]); ts += v; tsq += v * v; i += 1 }
        return (ts, tsq)
    }
}

extension BatchNorm2D: ChannelGate {
    /// The cached input and each channel's map, in evaluation mode only (training-mode gradients mix the batch).
    func gate() -> (values: Tensor, channels: [Affine])? {
        guard lastMode == .eval else { return nil }
        let g = gamma.value.data, b = beta.value.data
        return (input, (0..<g.count).map { Affine(mean: mean[$0], invStd: invStd[$0], gamma: g[$0], beta: b[$0], relu: relu) })
    }
}
