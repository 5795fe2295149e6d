/// A dense Float32 array in row-major order; images are `[N, C, H, W]`.
///
/// A value type backed by a copy-on-write `[Float]`, so layers can keep activations without
/// defensive copies. Hot code reaches the storage through `withUnsafe…BufferPointer`.
public struct Tensor: Sendable, Equatable {
    public private(set) var shape: [Int]
    public var data: [Float]

    /// Zero-filled tensor of the given shape.
    public init(zeros shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        self.shape = shape
        self.data = [Float](repeating: 0, count: shape.reduce(1, *))
    }

    /// Tensor whose contents are unspecified, for outputs a kernel overwrites entirely: zero-filling
    /// them first would be one more pass over memory (tens of MB per layer in a training step).
    public init(uninitialized shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        self.shape = shape
        self.data = [Float](unsafeUninitializedCapacity: shape.reduce(1, *)) { _, count in count = shape.reduce(1, *) }
    }

    /// Tensor filled with one value.
    public init(repeating value: Float, shape: [Int]) {
        self.shape = shape
        self.data = [Float](repeating: value, count: shape.reduce(1, *))
    }

    /// Wraps existing values; throws when the count does not match the shape.
    public init(shape: [Int], data: [Float]) throws {
        let n = shape.reduce(1, *)
        guard n == data.count, shape.allSatisfy({ $0 >= 0 }) else {
            throw TensorError(.shapeMismatch, "shape \(shape) needs \(n) values, got \(data.count)")
        }
        self.shape = shape
        self.data = data
    }

    /// Unchecked initializer for internal code that already knows the sizes agree.
    public init(uncheckedShape shape: [Int], data: [Float]) {
        assert(shape.reduce(1, *) == data.count)
        self.shape = shape
        self.data = data
    }

    public var count: Int { data.count }
    public var rank: Int { shape.count }

    /// Same storage viewed with another shape of equal size.
    public func reshaped(_ newShape: [Int]) throws -> Tensor {
        var s = newShape
        if let i = s.firstIndex(of: -1) {
            let rest = s.enumerated().filter { $0.offset != i }.map(\.element).reduce(1, *)
            guard rest > 0, count % rest == 0 else {
                throw TensorError(.shapeMismatch, "cannot reshape \(shape) to \(newShape)")
            }
            s[i] = count / rest
        }
        guard s.reduce(1, *) == count else {
            throw TensorError(.shapeMismatch, "cannot reshape \(shape) (\(count) values) to \(newShape)")
        }
        return Tensor(uncheckedShape: s, data: data)
    }

    /// Throws a readable error unless the shape matches; `-1` in `expected` matches any size.
    public func expectShape(_ expected: [Int], _ what: @autoclosure () -> String) throws {
        guard expected.count == shape.count,
              zip(expected, shape).allSatisfy({ $0 == -1 || $0 == $1 }) else {
            let e = expected.map { $0 == -1 ? "*" : String($0) }.joined(separator: ", ")
            throw TensorError(.shapeMismatch, "\(what()): expected shape [\(e)], got \(shape)")
        }
    }

    /// Reads one element by multi-index (slow; for tests and reference code).
    public subscript(_ index: Int...) -> Float {
        get { data[flatIndex(index)] }
        set { data[flatIndex(index)] = newValue }
    }

    @inline(__always)
    func flatIndex(_ index: [Int]) -> Int {
        precondition(index.count == shape.count, "index rank \(index.count) != tensor rank \(shape.count)")
        var flat = 0
        for (i, s) in zip(index, shape) {
            precondition(i >= 0 && i < s, "index \(index) out of bounds for shape \(shape)")
            flat = flat * s + i
        }
        return flat
    }

    /// The `n`-th slice along the first axis, e.g. one image of a batch.
    public func slice(_ n: Int) -> Tensor {
        let inner = shape.dropFirst().reduce(1, *)
        return Tensor(uncheckedShape: Array(shape.dropFirst()), data: Array(data[(n * inner)..<((n + 1) * inner)]))
    }

    /// Rows `range` along the first axis, keeping rank.
    public func rows(_ range: Range<Int>) -> Tensor {
        let inner = shape.dropFirst().reduce(1, *)
        var s = shape
        s[0] = range.count
        return Tensor(uncheckedShape: s, data: Array(data[(range.lowerBound * inner)..<(range.upperBound * inner)]))
    }

    /// Concatenates tensors along the first axis.
    public static func stack(_ parts: [Tensor]) throws -> Tensor {
        guard let first = parts.first else { throw TensorError(.invalidArgument, "stack of no tensors") }
        let inner = Array(first.shape.dropFirst())
        var out = [Float]()
        out.reserveCapacity(parts.reduce(0) { $0 + $1.count })
        var n = 0
        for p in parts {
            guard Array(p.shape.dropFirst()) == inner else {
                throw TensorError(.shapeMismatch, "stack: inner shapes differ (\(inner) vs \(Array(p.shape.dropFirst())))")
            }
            n += p.shape.first ?? 0
            out.append(contentsOf: p.data)
        }
        return Tensor(uncheckedShape: [n] + inner, data: out)
    }
}
