import TensorCore

extension Conv2D {
    /// Sizes of one image's convolution: the im2col matrix is `rows × cols` = `C·k·k × H'·W'`.
    struct Geometry: Equatable {
        let c, h, w, k, s, pad, oh, ow: Int
        var rows: Int { c * k * k }
        var cols: Int { oh * ow }
        var colCount: Int { rows * cols }
    }

    /// The kernels one pass runs on (see the list in `Conv2D`'s header).
    enum Path: String, Equatable, Sendable {
        case im2col, oneDNN, winograd, unrolled, batchGEMM
    }

    /// How this layer computes one input geometry in one mode: a path per pass, chosen once when the geometry is
    /// first seen and held with the objects those paths keep (oneDNN primitives, Winograd buffers).
    struct Plan {
        let batch: Int, height: Int, width: Int
        /// Training or evaluation: Winograd serves training passes only, so evaluation and the probes run the
        /// direct kernels (rounding ≈ 2e-7 of the largest output instead of ≈ 2e-6).
        let train: Bool
        let backend: Backend
        /// `Parallel.threads` at planning: oneDNN and the Winograd buffers fix their work split then.
        let threads: Int
        let forward: Path, inputGradient: Path, weightGradient: Path
        #if canImport(CDNNL)
        let oneDNN: OneDNNConvolution?
        #endif
        let winograd: WinogradConvolution?

        /// Whether this plan serves an input of this size and mode under the current settings.
        func serves(batch: Int, height: Int, width: Int, train: Bool, backend: Backend) -> Bool {
            self.batch == batch && self.height == height && self.width == width && self.train == train
                && self.backend == backend && threads == Parallel.threads
        }
    }

    /// The plans of one layer, the most recent last; at most `capacity` (training, evaluation, a last short
    /// batch, a probe batch), the oldest dropped first.
    struct PlanCache {
        static let capacity = 4
        private(set) var plans: [Plan] = []

        mutating func plan(batch: Int, height: Int, width: Int, train: Bool, backend: Backend,
                           make: () throws -> Plan) rethrows -> Plan {
            if let p = plans.first(where: { $0.serves(batch: batch, height: height, width: width, train: train, backend: backend) }) {
                return p
            }
            let p = try make()
            if plans.count >= Self.capacity { plans.removeFirst() }
            plans.append(p)
            return p
        }
    }

    /// Paths for a geometry: all im2col on that backend; tiny "same" maps unrolled; else Winograd for the
    /// training passes it serves on maps of ≥ 4×4, oneDNN direct (where built in) or im2col for the rest, and the batch GEMM for the
    /// weight gradient of small maps after oneDNN (its kernel ran at 56–131 GFLOP/s on VGG's 4×4 layers, the batch
    /// GEMM at 100–150).
    func paths(_ g: Geometry, train: Bool) -> (forward: Path, inputGradient: Path, weightGradient: Path) {
        if backend == .im2col { return (.im2col, .im2col, .im2col) }
        if usesUnrolledWeights(g) { return (.unrolled, .unrolled, .unrolled) }
        if backend == .winograd, train, g.cols >= WinogradConvolution.minimumPositions,
           WinogradConvolution.supports(g, outChannels: outChannels) {
            return (.winograd, .winograd, .winograd)
        }
        #if canImport(CDNNL)
        return (.oneDNN, .oneDNN, g.cols <= Self.batchGEMMMaxPositions ? .batchGEMM : .oneDNN)
        #else
        return (.im2col, .im2col, .im2col)
        #endif
    }

    /// The cached plan for an `[batch, C, H, W]` input in this mode, made on a miss.
    func plan(for g: Geometry, batch: Int, train: Bool) throws -> Plan {
        try plans.plan(batch: batch, height: g.h, width: g.w, train: train, backend: backend) {
            try makePlan(g, batch: batch, train: train)
        }
    }

    /// A new plan: the paths and the objects they keep (oneDNN primitives, which may fail to build).
    private func makePlan(_ g: Geometry, batch: Int, train: Bool) throws -> Plan {
        let p = paths(g, train: train)
        let uses = [p.forward, p.inputGradient, p.weightGradient]
        let winograd = uses.contains(.winograd) ? WinogradConvolution(g, batch: batch, outChannels: outChannels) : nil
        #if canImport(CDNNL)
        let oneDNN = uses.contains(.oneDNN) ? try OneDNNConvolution(self, batch: batch, height: g.h, width: g.w) : nil
        return Plan(batch: batch, height: g.h, width: g.w, train: train, backend: backend, threads: Parallel.threads,
                    forward: p.forward, inputGradient: p.inputGradient, weightGradient: p.weightGradient,
                    oneDNN: oneDNN, winograd: winograd)
        #else
        return Plan(batch: batch, height: g.h, width: g.w, train: train, backend: backend, threads: Parallel.threads,
                    forward: p.forward, inputGradient: p.inputGradient, weightGradient: p.weightGradient,
                    winograd: winograd)
        #endif
    }

    /// One path's share of a backward pass: `dx` (when non-nil, overwritten) and, when `weights`, dW and db added.
    func backward(_ path: Path, _ plan: Plan, x: Tensor, dy: Tensor, _ g: Geometry, dx: inout Tensor?, weights: Bool) throws {
        switch path {
        case .im2col: backwardIm2col(x: x, dy: dy, g, dx: &dx, weights: weights)
        case .unrolled: backwardUnrolled(x: x, dy: dy, g, dx: &dx, weights: weights)
        case .winograd: backwardWinograd(plan, x: x, dy: dy, dx: &dx, weights: weights)
        case .batchGEMM: if weights { batchedWeightGradient(x: x, dy: dy, g) }
        case .oneDNN:
            #if canImport(CDNNL)
            try backwardOneDNN(plan, x: x, dy: dy, dx: &dx, weights: weights)
            #else
            preconditionFailure("a oneDNN path in a build without oneDNN")  // `paths` never plans one there
            #endif
        }
    }

    /// `db[o] += Σ_{n,i,j} dy[n,o,i,j]` (sums in Double, images in order).
    func addBiasGradient(_ dy: Tensor) {
        guard let bias else { return }
        let n = dy.shape[0], o = outChannels, plane = dy.count / max(1, n * o)
        dy.data.withUnsafeBufferPointer { db in
        bias.grad.data.withUnsafeMutableBufferPointer { gb in
            guard let dyp = db.baseAddress else { return }
            for oc in 0..<o {
                var s = 0.0
                for img in 0..<n { s += Kernels.sum(dyp + (img * o + oc) * plane, count: plane) }
                gb[oc] += Float(s)
            }
        }}
    }
}

/// The growable work buffers of the im2col, batch-GEMM and unrolled paths, kept across steps so their pages
/// are reused. A class, so paths can hold two of its buffers at once.
final class Workspace {
    /// im2col / col2im columns and per-chunk partial gradients.
    var scratch: [Float] = []
    /// Batch-wide im2col matrix of the batch GEMM.
    var columns: [Float] = []
    /// `[O × N·H'·W']` work matrix of the batch GEMM (the unrolled path: its weight gradient `[O·P × C·P]`).
    var product: [Float] = []
    /// The unrolled matrix `Mt [O·P × C·P]` of the last unrolled forward pass, kept for its backward.
    var unrolled: [Float] = []

    /// Runs `body` on `scratch` grown to at least `count` floats (`count` > 0).
    func scratch<R>(_ count: Int, _ body: (UnsafeMutablePointer<Float>) throws -> R) rethrows -> R {
        if scratch.count < count { scratch = [Float](repeating: 0, count: count) }
        return try scratch.withUnsafeMutableBufferPointer { try body($0.baseAddress!) }
    }

    /// Grows `buffer` to at least `count` floats (new contents zero; old contents dropped).
    static func grow(_ buffer: inout [Float], to count: Int) {
        if buffer.count < count { buffer = [Float](repeating: 0, count: count) }
    }

    var bytes: Int { 4 * (scratch.count + columns.count + product.count + unrolled.count) }
}
