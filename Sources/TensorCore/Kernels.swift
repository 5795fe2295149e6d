import CMachine

/// Elementwise kernels over raw buffers, written as SIMD loops (8 lanes = one AVX2 register).
public enum Kernels {
    /// `x *= a`.
    @inline(__always)
    public static func scale(_ x: UnsafeMutablePointer<Float>, count n: Int, by a: Float) {
        var i = 0
        let va = SIMD8<Float>(repeating: a)
        while i + 8 <= n {
            let p = UnsafeMutableRawPointer(x + i)
            p.storeBytes(of: p.loadUnaligned(as: SIMD8<Float>.self) * va, as: SIMD8<Float>.self)
            i += 8
        }
        while i < n { x[i] *= a; i += 1 }
    }

    /// `y += a·x`.
    @inline(__always)
    public static func axpy(_ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count n: Int) {
        var i = 0
        let va = SIMD8<Float>(repeating: a)
        while i + 8 <= n {
            let px = UnsafeRawPointer(x + i), py = UnsafeMutableRawPointer(y + i)
            let r = py.loadUnaligned(as: SIMD8<Float>.self).addingProduct(px.loadUnaligned(as: SIMD8<Float>.self), va)
            py.storeBytes(of: r, as: SIMD8<Float>.self)
            i += 8
        }
        while i < n { y[i] += a * x[i]; i += 1 }
    }

    /// `y += x`.
    @inline(__always)
    public static func add(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count n: Int) {
        var i = 0
        while i + 8 <= n {
            let px = UnsafeRawPointer(x + i), py = UnsafeMutableRawPointer(y + i)
            py.storeBytes(of: py.loadUnaligned(as: SIMD8<Float>.self) + px.loadUnaligned(as: SIMD8<Float>.self),
                          as: SIMD8<Float>.self)
            i += 8
        }
        while i < n { y[i] += x[i]; i += 1 }
    }

    /// `y = max(x, 0)`; may alias.
    @inline(__always)
    public static func relu(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count n: Int) {
        var i = 0
        let zero = SIMD8<Float>(repeating: 0)
        while i + 8 <= n {
            let v = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            // A compare-and-select inlines to two instructions (`pointwiseMax` is an out-of-line generic call per
            // vector). NaN is kept (NaN < 0 is false), so a diverging run still shows NaN logits.
            UnsafeMutableRawPointer(y + i).storeBytes(of: v.replacing(with: zero, where: v .< zero), as: SIMD8<Float>.self)
            i += 8
        }
        while i < n { y[i] = max(x[i], 0); i += 1 }
    }

    /// `dx = y > 0 ? dy : 0` where `y` is the ReLU output; may alias `dy`.
    @inline(__always)
    public static func reluBackward(_ y: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                                    _ dx: UnsafeMutablePointer<Float>, count n: Int) {
        var i = 0
        let zero = SIMD8<Float>(repeating: 0)
        while i + 8 <= n {
            let vy = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self)
            let vg = UnsafeRawPointer(dy + i).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(dx + i).storeBytes(of: zero.replacing(with: vg, where: vy .> zero), as: SIMD8<Float>.self)
            i += 8
        }
        while i < n { dx[i] = y[i] > 0 ? dy[i] : 0; i += 1 }
    }

    /// Sum of all values, accumulated in Double for stability.
    public static func sum(_ x: UnsafePointer<Float>, count n: Int) -> Double {
        var s = 0.0
        for i in 0..<n { s += Double(x[i]) }
        return s
    }

    /// Sum of squares, accumulated in Double.
    public static func sumOfSquares(_ x: UnsafePointer<Float>, count n: Int) -> Double {
        var s = 0.0
        for i in 0..<n { let v = Double(x[i]); s += v * v }
        return s
    }

    /// `dst[j·rows + i] = src[i·columns + j]` (row-major `rows × columns` → `columns × rows`).
    public static func transpose(_ src: UnsafePointer<Float>, rows: Int, columns: Int, into dst: UnsafeMutablePointer<Float>) {
        transpose(src, rows: rows, columns: columns, sourceStride: columns, into: dst, destinationStride: rows, complex: false)
    }

    /// A `rows × columns` block transposed: `dst[j·destinationStride + i] = src[i·sourceStride + j]`, on floats
    /// or (`complex`) on interleaved re/im pairs with strides counted in pairs. AVX2 register transposes where
    /// the CPU has them (`CMachine`), else 16×16 tiles so the strided reads stay in L1. Plain strided loops
    /// were 8% of the Myrtle sensitivity probe (channels-last → NCHW) and 17% of ConvActually's
    /// (images ↔ frequency-major spectra).
    public static func transpose(_ src: UnsafePointer<Float>, rows: Int, columns: Int, sourceStride: Int,
                                 into dst: UnsafeMutablePointer<Float>, destinationStride: Int, complex: Bool) {
        if fs_transpose(src, rows, columns, sourceStride, dst, destinationStride, complex ? 1 : 0) == 1 { return }
        let width = complex ? 2 : 1, tile = 16
        var i0 = 0
        while i0 < rows {
            let i1 = min(i0 + tile, rows)
            var j0 = 0
            while j0 < columns {
                let j1 = min(j0 + tile, columns)
                for j in j0..<j1 {
                    for i in i0..<i1 {
                        for e in 0..<width { dst[width * (j * destinationStride + i) + e] = src[width * (i * sourceStride + j) + e] }
                    }
                }
                j0 = j1
            }
            i0 = i1
        }
    }

    /// True when every value is finite (used to catch divergence early).
    public static func allFinite(_ x: UnsafePointer<Float>, count n: Int) -> Bool {
        for i in 0..<n where !x[i].isFinite { return false }
        return true
    }
}

extension Tensor {
    /// `self += a·other`; shapes must hold the same number of values.
    public mutating func addScaled(_ other: Tensor, _ a: Float = 1) {
        precondition(count == other.count, "addScaled: \(shape) vs \(other.shape)")
        let n = count
        other.data.withUnsafeBufferPointer { x in
            data.withUnsafeMutableBufferPointer { y in
                Kernels.axpy(a, x.baseAddress!, y.baseAddress!, count: n)
            }
        }
    }

    /// `self *= a`.
    public mutating func scale(by a: Float) {
        let n = count
        data.withUnsafeMutableBufferPointer { Kernels.scale($0.baseAddress!, count: n, by: a) }
    }

    /// Sets every value to zero, keeping the storage.
    public mutating func zero() {
        data.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
    }

    /// Sum of squares of all values (Double accumulation).
    public var squaredNorm: Double { data.withUnsafeBufferPointer { Kernels.sumOfSquares($0.baseAddress!, count: count) } }

    /// True when every value is finite.
    public var isFinite: Bool { data.withUnsafeBufferPointer { Kernels.allFinite($0.baseAddress!, count: count) } }
}
