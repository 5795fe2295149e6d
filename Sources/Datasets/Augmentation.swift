import TensorCore
import Trials

/// Training-time augmentation of the paper: random horizontal flip and translation by up to `k`
/// pixels with zero fill (equivalent to zero-padding by `k` and a random crop), seeded.
public struct Augmentation: Sendable, Hashable, Codable {
    /// Flip each image left–right with probability 1/2.
    public var flip: Bool
    /// Maximum shift per axis; each image draws `dy, dx` uniformly in `−k…k`.
    public var translate: Int

    public init(flip: Bool = true, translate: Int = 2) {
        self.flip = flip
        self.translate = translate
    }

    /// The paper's default: flip + translate-by-2.
    public static let standard = Augmentation(flip: true, translate: 2)

    /// Augments a `[N, C, H, W]` batch in place, drawing from `rng`; per image the draws are
    /// (flip coin if `flip`, then `dy`, `dx` if `translate > 0`).
    public func apply(_ batch: inout Tensor, rng: inout SeededRNG) {
        let n = batch.shape[0], c = batch.shape[1], h = batch.shape[2], w = batch.shape[3]
        let inner = c * h * w
        var scratch = [Float](repeating: 0, count: inner)
        for i in 0..<n {
            let doFlip = flip && rng.int(below: 2) == 1
            let dy = translate > 0 ? rng.int(below: 2 * translate + 1) - translate : 0
            let dx = translate > 0 ? rng.int(below: 2 * translate + 1) - translate : 0
            if !doFlip && dy == 0 && dx == 0 { continue }
            batch.data.withUnsafeMutableBufferPointer { buf in
                let img = UnsafeMutableBufferPointer(rebasing: buf[(i * inner)..<((i + 1) * inner)])
                if doFlip { Augmentation.flipHorizontal(img, c: c, h: h, w: w) }
                if dy != 0 || dx != 0 {
                    scratch.withUnsafeMutableBufferPointer { s in
                        Augmentation.translate(img, c: c, h: h, w: w, dy: dy, dx: dx, scratch: s)
                    }
                }
            }
        }
    }

    /// Mirrors one `[C, H, W]` image left–right in place: `out[c, y, x] = in[c, y, W−1−x]`.
    public static func flipHorizontal(_ img: UnsafeMutableBufferPointer<Float>, c: Int, h: Int, w: Int) {
        for row in 0..<(c * h) {
            var a = row * w, b = row * w + w - 1
            while a < b { img.swapAt(a, b); a += 1; b -= 1 }
        }
    }

    /// Shifts one `[C, H, W]` image in place: `out[c, y, x] = in[c, y − dy, x − dx]`, zero outside.
    public static func translate(_ img: UnsafeMutableBufferPointer<Float>, c: Int, h: Int, w: Int, dy: Int, dx: Int,
                                 scratch: UnsafeMutableBufferPointer<Float>) {
        for k in 0..<(c * h * w) { scratch[k] = img[k] }
        for ch in 0..<c {
            for y in 0..<h {
                let sy = y - dy
                for x in 0..<w {
                    let sx = x - dx
                    img[(ch * h + y) * w + x] = (sy >= 0 && sy < h && sx >= 0 && sx < w) ? scratch[(ch * h + sy) * w + sx] : 0
                }
            }
        }
    }

    /// Tensor convenience for tests and one-off use: flip of a `[C, H, W]` image.
    public static func flipped(_ image: Tensor) -> Tensor {
        var out = image
        let (c, h, w) = (image.shape[0], image.shape[1], image.shape[2])
        out.data.withUnsafeMutableBufferPointer { flipHorizontal($0, c: c, h: h, w: w) }
        return out
    }

    /// Tensor convenience: translation of a `[C, H, W]` image by `(dy, dx)` with zero fill.
    public static func translated(_ image: Tensor, dy: Int, dx: Int) -> Tensor {
        var out = image
        let (c, h, w) = (image.shape[0], image.shape[1], image.shape[2])
        var scratch = [Float](repeating: 0, count: image.count)
        out.data.withUnsafeMutableBufferPointer { img in
            scratch.withUnsafeMutableBufferPointer { translate(img, c: c, h: h, w: w, dy: dy, dx: dx, scratch: $0) }
        }
        return out
    }
}
