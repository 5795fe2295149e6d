import Foundation
import TensorCore
import Trials

/// Random smooth deformations of the image grid (Petrini et al. NeurIPS 2021; docs/SCIENCE.md §4.1).
///
/// Each axis gets a field `τ(u, v) = Σ_{i,j ≥ 1, sqrt(i²+j²) < c+0.5} C_ij sin(iπu) sin(jπv)` with
/// `C_ij ~ N(0, T/(i²+j²))` and `u, v` on `linspace(0, 1, n)`; the pixel displacement is `n·τ` (the
/// published code draws `C_ij ~ N(0, 1/(i²+j²))` and multiplies by `sqrt(T)·n`, the same distribution).
/// The image is resampled at `(x − dx, y − dy)` with bilinear interpolation, coordinates clamped to the
/// border, as the published `remap`.
public struct Diffeomorphism: Sendable {
    /// Image side.
    public let n: Int
    /// Pixel displacement along x (columns) and y (rows), `[n·n]` row-major.
    public let dx: [Float]
    public let dy: [Float]

    /// Temperature giving typical displacement `delta` pixels: inverts `δ = (n/2)·sqrt(π T ln c)`.
    public static func temperature(delta: Double, n: Int, c: Double) -> Double {
        4 * delta * delta / (Double.pi * Double(n * n) * log(c))
    }

    /// The typical displacement `δ = (n/2)·sqrt(π T ln c)` of the paper (an approximation of the RMS displacement).
    public static func typicalDisplacement(temperature t: Double, n: Int, c: Double) -> Double {
        Double(n) / 2 * (Double.pi * t * log(c)).squareRoot()
    }

    /// `T_min = 1/(π n² ln c)` (δ = ½ px) and `T_max = 4/(π³ c² ln c)` (the largest natural deformation).
    public static func temperatureBounds(n: Int, c: Double) -> (min: Double, max: Double) {
        (1 / (Double.pi * Double(n * n) * log(c)), 4 / (pow(Double.pi, 3) * c * c * log(c)))
    }

    /// Draws a deformation for `n×n` images at temperature `t` with cut-off `c`.
    public static func random(n: Int, temperature t: Double, cutoff c: Int, rng: inout SeededRNG) -> Diffeomorphism {
        func field(_ rng: inout SeededRNG) -> [Float] {
            // coefficient[i][j] pairs sin(iπ·x) with sin(jπ·y) (x = column coordinate), as the published einsum.
            var coef = [[Double]](repeating: [Double](repeating: 0, count: c + 1), count: c + 1)
            for i in 1...max(1, c) {
                for j in 1...max(1, c) {
                    let r = Double(i * i + j * j).squareRoot()
                    let z = Double(rng.normal())
                    coef[i][j] = r < Double(c) + 0.5 ? z * (t.squareRoot() / r) : 0
                }
            }
            let u = (0..<n).map { n > 1 ? Double($0) / Double(n - 1) : 0 }
            var s = [[Double]](repeating: [Double](repeating: 0, count: c + 1), count: n)
            for p in 0..<n { for k in 0...c { s[p][k] = sin(Double.pi * u[p] * Double(k)) } }
            var out = [Float](repeating: 0, count: n * n)
            for y in 0..<n {
                for x in 0..<n {
                    var v = 0.0
                    for i in 1...max(1, c) { for j in 1...max(1, c) where coef[i][j] != 0 { v += coef[i][j] * s[x][i] * s[y][j] } }
                    out[y * n + x] = Float(v * Double(n))
                }
            }
            return out
        }
        let dx = c >= 1 ? field(&rng) : [Float](repeating: 0, count: n * n)
        let dy = c >= 1 ? field(&rng) : [Float](repeating: 0, count: n * n)
        return Diffeomorphism(n: n, dx: dx, dy: dy)
    }

    public init(n: Int, dx: [Float], dy: [Float]) {
        self.n = n
        self.dx = dx
        self.dy = dy
    }

    /// Root-mean-square pixel displacement `sqrt(mean(dx² + dy²))`.
    public var rmsDisplacement: Double {
        var s = 0.0
        for q in 0..<dx.count { s += Double(dx[q]) * Double(dx[q]) + Double(dy[q]) * Double(dy[q]) }
        return (s / Double(max(1, dx.count))).squareRoot()
    }

    /// Warps `planes` planes of `n×n` pixels (e.g. the C channels of one image) from `src` into `dst`.
    public func apply(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, planes: Int) {
        let m = Float(n - 1)
        for y in 0..<n {
            for x in 0..<n {
                let q = y * n + x
                let xn = min(m, max(0, Float(x) - dx[q])), yn = min(m, max(0, Float(y) - dy[q]))
                let xf = xn.rounded(.down), yf = yn.rounded(.down)
                let xv = xn - xf, yv = yn - yf
                let x0 = Int(xf), y0 = Int(yf), x1 = Int(xn.rounded(.up)), y1 = Int(yn.rounded(.up))
                for p in 0..<planes {
                    let a = src + p * n * n
                    dst[p * n * n + q] = (1 - yv) * (1 - xv) * a[y0 * n + x0] + (1 - yv) * xv * a[y0 * n + x1]
                        + yv * (1 - xv) * a[y1 * n + x0] + yv * xv * a[y1 * n + x1]
                }
            }
        }
    }

    /// The warped copy of one `[C, n, n]` image (or `[n, n]` plane).
    public func apply(_ image: Tensor) -> Tensor {
        var out = Tensor(zeros: image.shape)
        let planes = image.count / (n * n)
        image.data.withUnsafeBufferPointer { s in
            out.data.withUnsafeMutableBufferPointer { d in apply(s.baseAddress!, d.baseAddress!, planes: planes) }
        }
        return out
    }
}
