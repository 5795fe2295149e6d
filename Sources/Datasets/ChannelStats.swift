import TensorCore

/// Per-channel mean and standard deviation of a training split, stored with the model so the
/// network normalizes its own input and probes stay in pixel space.
public struct ChannelStats: Codable, Sendable, Hashable {
    /// Mean per channel.
    public var mean: [Float]
    /// Population standard deviation per channel (never below `minimumStd`).
    public var std: [Float]

    /// Floor on `std`, so a constant channel (e.g. a filtered-out DC) never divides by zero.
    public static let minimumStd: Float = 1e-6

    public init(mean: [Float], std: [Float]) {
        self.mean = mean
        self.std = std
    }

    /// Statistics over every pixel of every image of `set` (Double accumulation).
    public static func compute(_ set: ImageSet) -> ChannelStats { compute(set.images) }

    /// Statistics of `[N, C, H, W]` images.
    public static func compute(_ images: Tensor) -> ChannelStats {
        let n = images.shape[0], c = images.shape[1], plane = images.shape[2] * images.shape[3]
        var mean = [Float](), std = [Float]()
        for ch in 0..<c {
            var s = 0.0, s2 = 0.0
            for i in 0..<n {
                let base = (i * c + ch) * plane
                for k in 0..<plane {
                    let v = Double(images.data[base + k])
                    s += v
                    s2 += v * v
                }
            }
            let m = Double(max(1, n * plane))
            let mu = s / m
            mean.append(Float(mu))
            std.append(max(Float(max(0, s2 / m - mu * mu).squareRoot()), minimumStd))
        }
        return ChannelStats(mean: mean, std: std)
    }

    /// `(x − mean_c) / std_c` for `[N, C, H, W]` images (the model's first step; also the data spectrum's input).
    public func normalize(_ images: Tensor) throws -> Tensor {
        guard images.rank == 4, images.shape[1] == mean.count, std.count == mean.count else {
            throw DatasetError(.invalidArgument, "normalize: images \(images.shape) do not match \(mean.count) channel statistics")
        }
        var out = images
        let n = images.shape[0], c = images.shape[1], plane = images.shape[2] * images.shape[3]
        for i in 0..<n {
            for ch in 0..<c {
                let base = (i * c + ch) * plane
                let m = mean[ch], inv = 1 / std[ch]
                for k in 0..<plane { out.data[base + k] = (images.data[base + k] - m) * inv }
            }
        }
        return out
    }
}
