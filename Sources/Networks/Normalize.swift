import TensorCore

/// Per-channel input normalization `(x − mean_c) / std_c`, part of the model so probes can
/// perturb and differentiate in pixel space.
public final class Normalize: Layer {
    public let mean: [Float]
    public let std: [Float]

    public init(mean: [Float], std: [Float]) throws {
        guard mean.count == std.count, std.allSatisfy({ $0 > 0 }) else {
            throw TensorError(.invalidArgument, "Normalize needs one positive std per channel (mean \(mean), std \(std))")
        }
        self.mean = mean
        self.std = std
    }

    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        try x.expectShape([-1, mean.count, -1, -1], "Normalize input (channels)")
        var y = x
        let plane = x.shape[2] * x.shape[3], c = mean.count
        for i in 0..<(x.shape[0] * c) {
            let ch = i % c, inv = 1 / std[ch], m = mean[ch]
            for k in (i * plane)..<((i + 1) * plane) { y.data[k] = (y.data[k] - m) * inv }
        }
        return y
    }

    public func backward(_ dy: Tensor, parameterGradients: Bool) throws -> Tensor {
        var dx = dy
        let plane = dy.shape[2] * dy.shape[3], c = mean.count
        for i in 0..<(dy.shape[0] * c) {
            let inv = 1 / std[i % c]
            for k in (i * plane)..<((i + 1) * plane) { dx.data[k] *= inv }
        }
        return dx
    }
}
