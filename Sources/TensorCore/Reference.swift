import Foundation

/// Naive reference kernels: slow, obviously correct loops kept beside the fast paths as test oracles.
public enum Reference {
    /// Triple-loop `C = A·B` in Double accumulation for `[m×k]·[k×n]`.
    public static func matmul(_ a: Tensor, _ b: Tensor) -> Tensor {
        let m = a.shape[0], k = a.shape[1], n = b.shape[1]
        var c = Tensor(zeros: [m, n])
        for i in 0..<m {
            for j in 0..<n {
                var s = 0.0
                for p in 0..<k { s += Double(a.data[i * k + p]) * Double(b.data[p * n + j]) }
                c.data[i * n + j] = Float(s)
            }
        }
        return c
    }

    /// Direct orthonormal 2-D DFT of one real `H×W` image (Float or Double values), in Double: returns (re, im)
    /// arrays in fft2 order.
    public static func dft2<T: BinaryFloatingPoint>(_ x: [T], h: Int, w: Int) -> (re: [Double], im: [Double]) {
        var re = [Double](repeating: 0, count: h * w), im = re
        let s = 1 / Double(h * w).squareRoot()
        for u in 0..<h {
            for v in 0..<w {
                var sr = 0.0, si = 0.0
                for y in 0..<h {
                    for xx in 0..<w {
                        let ang = -2 * Double.pi * (Double(u * y) / Double(h) + Double(v * xx) / Double(w))
                        sr += Double(x[y * w + xx]) * cos(ang)
                        si += Double(x[y * w + xx]) * cos(ang - Double.pi / 2)
                    }
                }
                re[u * w + v] = sr * s
                im[u * w + v] = si * s
            }
        }
        return (re, im)
    }
}
