import TensorCore
import Trials

/// The data's amplitude spectrum `sqrt(E|x̂_cij|²)`: the curve the sensitivity profiles are compared to (docs/SCIENCE.md §1.3).
public enum DataSpectrum {
    /// Default number of images averaged over.
    public static let defaultImages = 5000

    /// `[C, H, W]` map in numpy fft2 order over the first `maxImages` images, after per-channel
    /// normalization with `stats` (pass `nil` to use the images as given). Orthonormal FFT (FFTW).
    public static func compute(_ images: Tensor, stats: ChannelStats?, maxImages: Int = defaultImages) throws -> Tensor {
        guard images.rank == 4 else {
            throw DatasetError(.invalidArgument, "data spectrum needs [N, C, H, W] images, got \(images.shape)")
        }
        let n = min(images.shape[0], max(0, maxImages))
        guard n > 0 else { throw DatasetError(.invalidArgument, "data spectrum needs at least one image") }
        var x = images.rows(0..<n)
        if let stats { x = try stats.normalize(x) }
        let c = x.shape[1], h = x.shape[2], w = x.shape[3], plane = h * w
        var power = [Double](repeating: 0, count: c * plane)
        let chunk = 128
        var start = 0
        while start < n {
            let m = min(chunk, n - start)
            let spec = try FFT.spectrum(x.rows(start..<(start + m)))  // [m, C, H, W, 2]
            for i in 0..<m {
                for k in 0..<(c * plane) {
                    let re = Double(spec.data[2 * (i * c * plane + k)]), im = Double(spec.data[2 * (i * c * plane + k) + 1])
                    power[k] += re * re + im * im
                }
            }
            start += m
        }
        return Tensor(uncheckedShape: [c, h, w], data: power.map { Float(($0 / Double(n)).squareRoot()) })
    }

    /// The data spectrum of an image set together with its radial profile.
    public static func profile(_ set: ImageSet, stats: ChannelStats?, maxImages: Int = defaultImages,
                               compat: RadialProfile.Compat = .clean) throws -> (map: Tensor, profile: RadialProfile) {
        let map = try compute(set.images, stats: stats, maxImages: maxImages)
        return (map, try RadialProfile.compute(map, compat: compat))
    }
}
