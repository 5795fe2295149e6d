import TensorCore

/// Max pooling with a square window equal to its stride (2, 4), or over the whole map (`global`).
///
/// `[N, C, H, W] → [N, C, H/k, W/k]` (floor, like PyTorch); global gives `[N, C, 1, 1]`.
/// Backward routes each gradient to the (first) arg-max of its window.
public final class MaxPool2D: Layer {
    public let kernel: Int?
    private var argmax: [Int32] = []
    private var inputShape: [Int] = []

    /// A `kernel`×`kernel` pool with stride `kernel`.
    public init(kernel: Int) { self.kernel = kernel }

    /// Pools each channel to a single value.
    public init(global: Void = ()) { self.kernel = nil }

    public func forward(_ x: Tensor, mode: Mode) throws -> Tensor {
        try x.expectShape([-1, -1, -1, -1], "MaxPool2D input")
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let kh = kernel ?? h, kw = kernel ?? w
        let oh = h / kh, ow = w / kw
        guard oh > 0, ow > 0 else {
            throw TensorError(.shapeMismatch, "MaxPool2D(\(kh)) on a \(h)×\(w) map gives an empty output; use a smaller pool or larger images")
        }
        inputShape = x.shape
        var y = Tensor(zeros: [n, c, oh, ow])
        argmax = [Int32](repeating: 0, count: y.count)
        x.data.withUnsafeBufferPointer { xp in
            y.data.withUnsafeMutableBufferPointer { yp in
                argmax.withUnsafeMutableBufferPointer { ap in
                    let (xp, yp, ap) = (xp.baseAddress!, yp.baseAddress!, ap.baseAddress!)
                    Parallel.forChunks(n * c) { planes in
                        for plane in planes {
                            let src = xp + plane * h * w
                            for i in 0..<oh {
                                for j in 0..<ow {
                                    var best = -Float.infinity, bi = (i * kh) * w + j * kw
                                    for p in 0..<kh {
                                        for q in 0..<kw {
                                            let idx = (i * kh + p) * w + j * kw + q
                                            if src[idx] > best { best = src[idx]; bi = idx }
                                        }
                                    }
                                    let o = plane * oh * ow + i * ow + j
                                    yp[o] = best
                                    ap[o] = Int32(bi)
                                }
                            }
                        }
                    }
                }
            }
        }
        return y
    }

    public func backward(_ dy: Tensor, parameterGradients: Bool) throws -> Tensor {
        try inputGradients(dy, copies: 1)
    }

    /// Routes every copy through the one cached arg-max table.
    public func inputGradients(_ dy: Tensor, copies: Int) throws -> Tensor {
        guard copies > 0, dy.count == copies * argmax.count else {
            throw TensorError(.shapeMismatch, "MaxPool2D.backward: gradient \(dy.shape) does not match the last output (\(copies) copies)")
        }
        var shape = inputShape
        shape[0] *= copies
        var dx = Tensor(zeros: shape)
        let plane = inputShape[2] * inputShape[3]
        let planes = inputShape[0] * inputShape[1]
        guard dy.count > 0, planes > 0 else { return dx }
        let outPlane = argmax.count / planes
        dy.data.withUnsafeBufferPointer { gb in
        argmax.withUnsafeBufferPointer { ab in
        dx.data.withUnsafeMutableBufferPointer { xb in
            // Non-empty (dy.count > 0); chunks write disjoint input planes.
            let gp = gb.baseAddress!, ap = ab.baseAddress!, xp = xb.baseAddress!
            Parallel.forChunks(copies * planes) { range in
                for p in range {
                    let dst = xp + p * plane, table = ap + (p % planes) * outPlane, src = gp + p * outPlane
                    for o in 0..<outPlane { dst[Int(table[o])] += src[o] }
                }
            }
        }}}
        return dx
    }
}
