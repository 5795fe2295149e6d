import TensorCore

/// Real Fourier basis images of unit L2 norm (Yin et al. 2019; docs/SCIENCE.md §2).
///
/// `U_ij = Re(IFFT2_ortho(E))` where `E` holds `(1+1j)/2` at fft2 index `(i, j)` and `(1−1j)/2` at its
/// mirror `(−i, −j)`, or `1` when the index is its own mirror (DC and the Nyquist rows/columns of even
/// sizes). `E` is Hermitian, so the inverse transform is already real; `‖U_ij‖ = 1`. The mirror's image
/// `U_{−i,−j}` is the same frequency with a quarter-period phase shift (`cos θ + sin θ` vs `cos θ − sin θ`).
public enum FourierBasis {
    /// The fft2 index of the mirror frequency `(−i, −j)`.
    public static func mirror(_ i: Int, _ j: Int, h: Int, w: Int) -> (Int, Int) { ((h - i) % h, (w - j) % w) }

    /// `[H, W]` basis image for fft2 index `(i, j)`.
    public static func image(_ i: Int, _ j: Int, h: Int, w: Int) throws -> Tensor {
        guard i >= 0, i < h, j >= 0, j < w else {
            throw ProbeError(.invalidParameter, "Fourier basis index (\(i), \(j)) outside a \(h)×\(w) grid")
        }
        var spec = [Float](repeating: 0, count: 2 * h * w)
        let (mi, mj) = mirror(i, j, h: h, w: w)
        if (mi, mj) == (i, j) {
            spec[2 * (i * w + j)] = 1
        } else {
            spec[2 * (i * w + j)] = 0.5; spec[2 * (i * w + j) + 1] = 0.5
            spec[2 * (mi * w + mj)] = 0.5; spec[2 * (mi * w + mj) + 1] = -0.5
        }
        var out = [Float](repeating: 0, count: 2 * h * w)
        try spec.withUnsafeBufferPointer { s in
            try out.withUnsafeMutableBufferPointer { o in
                try FFT.complex(s.baseAddress!, o.baseAddress!, batch: 1, h: h, w: w, inverse: true, scale: FFT.orthoScale(h, w))
            }
        }
        return Tensor(uncheckedShape: [h, w], data: (0..<(h * w)).map { out[2 * $0] })
    }

    /// One representative per mirror pair `{(i, j), (−i, −j)}` (the lexicographically smaller), in fft2 order.
    public static func halfGrid(h: Int, w: Int) -> [(Int, Int)] {
        var out: [(Int, Int)] = []
        for i in 0..<h {
            for j in 0..<w {
                let (mi, mj) = mirror(i, j, h: h, w: w)
                if i < mi || (i == mi && j <= mj) { out.append((i, j)) }
            }
        }
        return out
    }
}
