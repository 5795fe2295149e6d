import TensorCore

/// Max pooling with a square window equal to its stride (2, 4), or over the whole map (`global`).
///
/// `[N, C, H, W] → [N, C, H/k, W/k]` (floor, like PyTorch); global gives `[N, C, 1, 1]`.
/// Backward routes each gradient to the (first) arg-max of its window.
public final class MaxPool2D: Layer {
    public let kernel: Int?
    /// Per output of the last forward pass, the index of its maximum in the input plane.
    private(set) var argmax: [Int32] = []
    /// Input shape of the last forward pass.
    private(set) var inputShape: [Int] = []

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
        var y = Tensor(uninitialized: [n, c, oh, ow])  // every element written below
        if argmax.count != y.count { argmax = [Int32](repeating: 0, count: y.count) }  // kept across steps; overwritten
        x.data.withUnsafeBufferPointer { xp in
            y.data.withUnsafeMutableBufferPointer { yp in
                argmax.withUnsafeMutableBufferPointer { ap in
                    let (xp, yp, ap) = (xp.baseAddress!, yp.baseAddress!, ap.baseAddress!)
                    Parallel.forChunks(n * c) { planes in
                        for plane in planes {
                            let src = xp + plane * h * w
                            for i in 0..<oh {
                                var start = 0
                                if kh == 2 && kw == 2 {
                                    let o = plane * oh * ow + i * ow
                                    start = MaxPool2D.pool2x2Row(src + 2 * i * w, w: w, count: ow, yp + o, ap + o, rowIndex: 2 * i * w)
                                }
                                for j in start..<ow {
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

    /// One output row of a 2×2 pool, 8 windows at a time; returns how many outputs it wrote (a
    /// multiple of 8; the caller finishes the row). Same result as the scalar scan: candidates in
    /// order (0,0), (0,1), (1,0), (1,1), strict `>` from −∞, so the first maximum wins and NaN never
    /// does. The scalar loop's unpredictable branches made the pool ~3% of a VGG11 step.
    @inline(__always)
    static func pool2x2Row(_ top: UnsafePointer<Float>, w: Int, count: Int, _ y: UnsafeMutablePointer<Float>,
                           _ a: UnsafeMutablePointer<Int32>, rowIndex: Int) -> Int {
        let bottom = top + w
        let lanes = SIMD8<Int32>(0, 2, 4, 6, 8, 10, 12, 14), width = SIMD8<Int32>(repeating: Int32(w))
        var j = 0
        while j + 8 <= count {
            let t = UnsafeRawPointer(top + 2 * j).loadUnaligned(as: SIMD16<Float>.self)
            let b = UnsafeRawPointer(bottom + 2 * j).loadUnaligned(as: SIMD16<Float>.self)
            var best = SIMD8<Float>(repeating: -.infinity), code = SIMD8<Int32>()
            let c0 = t.evenHalf, c1 = t.oddHalf, c2 = b.evenHalf, c3 = b.oddHalf
            var m = c0 .> best; best.replace(with: c0, where: m)
            m = c1 .> best; best.replace(with: c1, where: m); code.replace(with: 1, where: m)
            m = c2 .> best; best.replace(with: c2, where: m); code.replace(with: 2, where: m)
            m = c3 .> best; best.replace(with: c3, where: m); code.replace(with: 3, where: m)
            UnsafeMutableRawPointer(y + j).storeBytes(of: best, as: SIMD8<Float>.self)
            let index = SIMD8<Int32>(repeating: Int32(rowIndex + 2 * j)) &+ lanes &+ (code & 1) &+ (code &>> 1) &* width
            UnsafeMutableRawPointer(a + j).storeBytes(of: index, as: SIMD8<Int32>.self)
            j += 8
        }
        return j
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
