import TensorCore

extension CircularConv2D {
    /// Naive direct circular convolution in Double accumulation: the test oracle for the Fourier path.
    ///
    /// `y[n,o,i,j] = b[o] + Σ_c Σ_{p,q} w[o,c,p,q] · x[n,c,(i+p−⌊H/2⌋) mod H,(j+q−⌊W/2⌋) mod W]`;
    /// x `[N, C, H, W]`, weight `[O, C, H, W]`, bias `[O]` or nil → `[N, O, H, W]`.
    public static func referenceForward(_ x: Tensor, weight: Tensor, bias: Tensor?) throws -> Tensor {
        guard x.rank == 4, weight.rank == 4, weight.shape[1] == x.shape[1],
              weight.shape[2] == x.shape[2], weight.shape[3] == x.shape[3] else {
            throw TensorError(.shapeMismatch,
                              "CircularConv2D.referenceForward: incompatible input \(x.shape) and weight \(weight.shape)")
        }
        let n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3], o = weight.shape[0]
        if let bias { try bias.expectShape([o], "CircularConv2D.referenceForward bias") }
        var y = Tensor(zeros: [n, o, h, w])
        for img in 0..<n {
            for oc in 0..<o {
                for i in 0..<h {
                    for j in 0..<w {
                        var s = Double(bias?.data[oc] ?? 0)
                        for ic in 0..<c {
                            for p in 0..<h {
                                let iy = ((i + p - h / 2) % h + h) % h
                                for q in 0..<w {
                                    let ix = ((j + q - w / 2) % w + w) % w
                                    s += Double(weight.data[((oc * c + ic) * h + p) * w + q])
                                        * Double(x.data[((img * c + ic) * h + iy) * w + ix])
                                }
                            }
                        }
                        y.data[((img * o + oc) * h + i) * w + j] = Float(s)
                    }
                }
            }
        }
        return y
    }
}
