import TensorCore

/// Batch normalization over `[N, C, H, W]` per channel, PyTorch semantics: training uses batch
/// statistics (biased variance) and updates running mean / unbiased running variance with
/// `momentum`; evaluation uses the running statistics. `gamma`/`beta` are not weight-decayed.
public final class BatchNorm2D: Layer {
    public let gamma: Parameter
    public let beta: Parameter
    public let runningMean: Parameter
    public let runningVar: Parameter
    public let momentum: Float
    public let eps: Float

    // Forward cache: normalized input, per-channel 1/sqrt(var+eps), and the mode used.
    private var xhat = Tensor(zeros: [0])
    private var invStd: [Float] = []
    private var lastMode: Mode = .eval

    public init(channels: Int, name: String, momentum: Float = 0.1, eps: Float = 1e-5) {
        gamma = Parameter("\(name).weight", Tensor(repeating: 1, shape: [channels]), decays: false)
        beta = Parameter("\(name).bias", Tensor(zeros: [channels]), decays: false)
        runningMean = Parameter("\(name).running_mean", Tensor(zeros: [channels]), decays: false)
        runningVar = Parameter("\(name).running_var", Tensor(repeating: 1, shape: [channels]), decays: false)
        self.momentum = momentum
        self.eps = eps
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
        invStd = variance.map { 1 / ($0 + eps).squareRoot() }
        lastMode = mode
        if xhat.count != x.count { xhat = Tensor(zeros: x.shape) } else { xhat = try xhat.reshaped(x.shape) }
        var y = Tensor(zeros: x.shape)
        guard m > 0 else { return y }
        let g = gamma.value.data, bt = beta.value.data, inv = invStd
        x.data.withUnsafeBufferPointer { xb in
        xhat.data.withUnsafeMutableBufferPointer { hb in
        y.data.withUnsafeMutableBufferPointer { yb in
            // Non-empty (m > 0); chunks write disjoint planes.
            let xp = xb.baseAddress!, hp = hb.baseAddress!, yp = yb.baseAddress!
            Parallel.forChunks(n * c) { planes in
                for pl in planes {
                    let ch = pl % c, base = pl * plane
                    let mu = mean[ch], iv = inv[ch], gg = g[ch], bb = bt[ch]
                    for k in base..<(base + plane) {
                        let v = (xp[k] - mu) * iv
                        hp[k] = v
                        yp[k] = v * gg + bb
                    }
                }
            }
        }}}
        return y
    }

    public func backward(_ dy: Tensor, parameterGradients: Bool) throws -> Tensor {
        guard dy.shape == xhat.shape else {
            throw TensorError(.shapeMismatch, "BatchNorm2D.backward: gradient \(dy.shape) does not match input \(xhat.shape)")
        }
        let c = gamma.value.count, n = dy.shape[0], plane = dy.shape[2] * dy.shape[3], m = Float(n * plane)
        var dx = Tensor(zeros: dy.shape)
        guard n * plane > 0 else { return dx }
        var sums = [Double](repeating: 0, count: 2 * c)
        let g = gamma.value.data, inv = invStd, train = lastMode == .train
        dy.data.withUnsafeBufferPointer { db in
        xhat.data.withUnsafeBufferPointer { hb in
        dx.data.withUnsafeMutableBufferPointer { xb in
        sums.withUnsafeMutableBufferPointer { sb in
            // Non-empty (n·plane > 0); chunks write disjoint channels.
            let dyp = db.baseAddress!, hp = hb.baseAddress!, dxp = xb.baseAddress!, sp = sb.baseAddress!
            Parallel.forChunks(c) { channels in
                for ch in channels {
                    var sumDy = 0.0, sumDyXhat = 0.0
                    for b in 0..<n {
                        let (s1, s2) = BatchNorm2D.planeDots(dyp + (b * c + ch) * plane, hp + (b * c + ch) * plane, plane)
                        sumDy += s1; sumDyXhat += s2
                    }
                    sp[2 * ch] = sumDy; sp[2 * ch + 1] = sumDyXhat
                    let scale = g[ch] * inv[ch]
                    let meanDy = train ? Float(sumDy) / m : 0, meanDyXhat = train ? Float(sumDyXhat) / m : 0
                    for b in 0..<n {
                        let base = (b * c + ch) * plane
                        for k in base..<(base + plane) {
                            dxp[k] = scale * (dyp[k] - meanDy - hp[k] * meanDyXhat)
                        }
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

    /// `Σ a` and `Σ a·b` over one plane, like `planeSums`.
    @inline(__always)
    static func planeDots(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> (Double, Double) {
        var s = SIMD8<Float>(), d = SIMD8<Float>(), i = 0
        while i + 8 <= count {
            let va = UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self)
            let vb = UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float>.self)
            s += va; d = d.addingProduct(va, vb); i += 8
        }
        var ts = Double(s.sum()), td = Double(d.sum())
        while i < count { ts += Double(a[i]); td += Double(a[i] * b[i]); i += 1 }
        return (ts, td)
    }
}
