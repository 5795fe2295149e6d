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
            for ch in 0..<c {
                var s = 0.0, sq = 0.0
                for b in 0..<n {
                    let base = (b * c + ch) * plane
                    for k in base..<(base + plane) { let v = Double(x.data[k]); s += v; sq += v * v }
                }
                let mu = s / Double(m)
                mean[ch] = Float(mu)
                variance[ch] = Float(max(sq / Double(m) - mu * mu, 0))
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
        var xh = x, y = x
        for b in 0..<n {
            for ch in 0..<c {
                let base = (b * c + ch) * plane
                let mu = mean[ch], inv = invStd[ch], g = gamma.value.data[ch], bt = beta.value.data[ch]
                for k in base..<(base + plane) {
                    let v = (x.data[k] - mu) * inv
                    xh.data[k] = v
                    y.data[k] = v * g + bt
                }
            }
        }
        xhat = xh
        return y
    }

    public func backward(_ dy: Tensor, parameterGradients: Bool) throws -> Tensor {
        guard dy.shape == xhat.shape else {
            throw TensorError(.shapeMismatch, "BatchNorm2D.backward: gradient \(dy.shape) does not match input \(xhat.shape)")
        }
        let c = gamma.value.count, n = dy.shape[0], plane = dy.shape[2] * dy.shape[3], m = Float(n * plane)
        var dx = dy
        for ch in 0..<c {
            var sumDy = 0.0, sumDyXhat = 0.0
            for b in 0..<n {
                let base = (b * c + ch) * plane
                for k in base..<(base + plane) { sumDy += Double(dy.data[k]); sumDyXhat += Double(dy.data[k] * xhat.data[k]) }
            }
            if parameterGradients {
                gamma.grad.data[ch] += Float(sumDyXhat)
                beta.grad.data[ch] += Float(sumDy)
            }
            let g = gamma.value.data[ch], inv = invStd[ch]
            let meanDy = Float(sumDy) / m, meanDyXhat = Float(sumDyXhat) / m
            for b in 0..<n {
                let base = (b * c + ch) * plane
                for k in base..<(base + plane) {
                    dx.data[k] = lastMode == .train
                        ? g * inv * (dy.data[k] - meanDy - xhat.data[k] * meanDyXhat)
                        : g * inv * dy.data[k]
                }
            }
        }
        return dx
    }
}
