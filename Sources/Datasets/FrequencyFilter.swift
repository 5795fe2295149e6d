import TensorCore
import Trials

/// Signed frequency of fft2 index `i` on an axis of length `n`, as numpy's `fftfreq(n) * n`
/// (for even `n`, index `n/2` is `-n/2`).
@inline(__always)
func signedFrequency(_ i: Int, _ n: Int) -> Int { i < (n + 1) / 2 ? i : i - n }

/// Frequency-domain filters on images: the paper's high-pass CIFAR ("hpf", docs/SCIENCE.md §8.2) and its
/// low-pass and circular relatives.
///
/// Each filter picks a set `S` of frequencies `(ky, kx)` (signed, numpy `fftfreq·n` convention) and
/// either removes it (`highPass`) or keeps only it (`lowPass`) from every channel's orthonormal 2-D
/// spectrum; the filtered image is the real part of the inverse transform. For the symmetric sets the
/// result is exactly real; the paper's asymmetric square makes taking the real part halve the
/// unpaired components.
/// - `square` clean: `S = { |ky| < K and |kx| < K }` (paper hpf with `K = H/4`).
/// - `square` paper: `S = { −K ≤ ky, kx ≤ K−1 }` (the published mask; for 32px and `K = 8` it covers
///   `[−8, 7]`, the `+8` partner of each `−8` row/column is missing).
/// - `circle`: `S = { sqrt(ky² + kx²) < K }` (docs/SCIENCE.md §3's `M_r`), same in both compat modes.
public struct FrequencyFilter: Sendable, Hashable, Codable {
    /// Whether the set `S` is removed or kept.
    public enum Kind: String, Sendable, Hashable, Codable, CaseIterable { case highPass, lowPass }
    /// Geometry of `S`.
    public enum Shape: String, Sendable, Hashable, Codable, CaseIterable { case square, circle }
    /// Clean definition or the published code's quirk.
    public typealias Compat = Trials.Compat

    public var kind: Kind
    public var shape: Shape
    public var compat: Compat
    /// `K` above, in frequency units (cycles per image).
    public var cutoff: Int

    public init(kind: Kind, shape: Shape = .square, compat: Compat = .clean, cutoff: Int) {
        self.kind = kind
        self.shape = shape
        self.compat = compat
        self.cutoff = cutoff
    }

    /// The paper's high-pass filter for `size`-pixel images: square, `K = size/4`.
    public static func paperHPF(size: Int, compat: Compat = .clean) -> FrequencyFilter {
        FrequencyFilter(kind: .highPass, shape: .square, compat: compat, cutoff: size / 4)
    }

    /// Whether frequency `(ky, kx)` belongs to `S`.
    public func inSet(ky: Int, kx: Int) -> Bool {
        switch shape {
        case .circle:
            return Double(ky * ky + kx * kx).squareRoot() < Double(cutoff)
        case .square:
            switch compat {
            case .clean: return abs(ky) < cutoff && abs(kx) < cutoff
            case .paper: return ky >= -cutoff && ky <= cutoff - 1 && kx >= -cutoff && kx <= cutoff - 1
            }
        }
    }

    /// Multiplier per fft2-ordered coefficient of an `h×w` spectrum (1 = kept, 0 = removed), row-major.
    public func mask(h: Int, w: Int) -> [Float] {
        var m = [Float](repeating: 0, count: h * w)
        for i in 0..<h {
            for j in 0..<w {
                let s = inSet(ky: signedFrequency(i, h), kx: signedFrequency(j, w))
                m[i * w + j] = (s == (kind == .lowPass)) ? 1 : 0
            }
        }
        return m
    }

    /// Filters every channel of `[N, C, H, W]` (or `[C, H, W]`) images.
    public func apply(_ images: Tensor) throws -> Tensor {
        guard images.rank >= 2 else {
            throw DatasetError(.invalidArgument, "filter needs [..., H, W] images, got shape \(images.shape)")
        }
        let h = images.shape[images.rank - 2], w = images.shape[images.rank - 1]
        guard cutoff >= 0 else { throw DatasetError(.invalidArgument, "filter cutoff must be non-negative, got \(cutoff)") }
        return try FourierMask.apply(images, mask: mask(h: h, w: w))
    }

    /// Filters an image set's pixels, keeping labels.
    public func apply(_ set: ImageSet) throws -> ImageSet {
        ImageSet(unchecked: try apply(set.images), labels: set.labels, classes: set.classes)
    }
}

/// Real part of `IFFT(mask · FFT(x))` per `H×W` plane, orthonormal, through FFTW complex transforms.
enum FourierMask {
    static func apply(_ x: Tensor, mask: [Float]) throws -> Tensor {
        let h = x.shape[x.rank - 2], w = x.shape[x.rank - 1]
        let plane = h * w
        let planes = plane == 0 ? 0 : x.count / plane
        var out = Tensor(zeros: x.shape)
        let scale = FFT.orthoScale(h, w)
        let chunk = 256
        let a = UnsafeMutablePointer<Float>.allocate(capacity: 2 * plane * chunk)
        let b = UnsafeMutablePointer<Float>.allocate(capacity: 2 * plane * chunk)
        defer { a.deallocate(); b.deallocate() }
        try x.data.withUnsafeBufferPointer { srcBuf in
            try out.data.withUnsafeMutableBufferPointer { dstBuf in
                try mask.withUnsafeBufferPointer { m in
                    guard let src = srcBuf.baseAddress, let dst = dstBuf.baseAddress else { return }
                    var start = 0
                    while start < planes {
                        let n = min(chunk, planes - start)
                        let s = src + start * plane, d = dst + start * plane
                        for k in 0..<(n * plane) {
                            a[2 * k] = s[k]
                            a[2 * k + 1] = 0
                        }
                        try FFT.complex(a, b, batch: n, h: h, w: w, scale: scale)
                        for p in 0..<n {
                            let bp = b + 2 * p * plane
                            for k in 0..<plane {
                                bp[2 * k] *= m[k]
                                bp[2 * k + 1] *= m[k]
                            }
                        }
                        try FFT.complex(b, a, batch: n, h: h, w: w, inverse: true, scale: scale)
                        for k in 0..<(n * plane) { d[k] = a[2 * k] }
                        start += n
                    }
                }
            }
        }
        return out
    }
}
