import TensorCore

extension Conv2D {
    /// Naive 7-loop convolution in Double accumulation: the test oracle for the im2col path and a
    /// portable fallback. Same semantics as `forward` (PyTorch cross-correlation, zero padding).
    ///
    /// x `[N, C, H, W]`, weight `[O, C, k, k]`, bias `[O]` or nil → `[N, O, H', W']`.
    public static func referenceForward(_ x: Tensor, weight: Tensor, bias: Tensor?,
                                        stride: Int, padding: Int) throws -> Tensor {
        guard x.rank == 4, weight.rank == 4, weight.shape[1] == x.shape[1], weight.shape[2] == weight.shape[3],
              stride >= 1, padding >= 0 else {
            throw TensorError(.shapeMismatch,
                              "Conv2D.referenceForward: incompatible input \(x.shape), weight \(weight.shape), stride \(stride), padding \(padding)")
        }
        let n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3]
        let o = weight.shape[0], k = weight.shape[2]
        if let bias { try bias.expectShape([o], "Conv2D.referenceForward bias") }
        guard h + 2 * padding >= k, w + 2 * padding >= k else {
            throw TensorError(.shapeMismatch, "Conv2D.referenceForward: kernel \(k) does not fit \(h)×\(w) with padding \(padding)")
        }
        let oh = (h + 2 * padding - k) / stride + 1, ow = (w + 2 * padding - k) / stride + 1
        var y = Tensor(zeros: [n, o, oh, ow])
        for img in 0..<n {
            for oc in 0..<o {
                for i in 0..<oh {
                    for j in 0..<ow {
                        var s = Double(bias?.data[oc] ?? 0)
                        for ic in 0..<c {
                            for p in 0..<k {
                                for q in 0..<k {
                                    let iy = i * stride + p - padding, ix = j * stride + q - padding
                                    guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                                    s += Double(weight.data[((oc * c + ic) * k + p) * k + q])
                                        * Double(x.data[((img * c + ic) * h + iy) * w + ix])
                                }
                            }
                        }
                        y.data[((img * o + oc) * oh + i) * ow + j] = Float(s)
                    }
                }
            }
        }
        return y
    }
}
