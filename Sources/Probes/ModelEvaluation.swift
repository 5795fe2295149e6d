import Networks
import TensorCore

/// Batched inference and input gradients shared by the probes (always evaluation mode).
public enum ModelEvaluation {
    /// Images per forward pass in the probes.
    public static let batchSize = 100
    /// Images per batch when all K per-class gradients go backward together: the backward tensors
    /// are K times larger, and 50 images × 10 classes keeps them small enough to be reused from the
    /// heap (100 measured ~10% slower on Myrtle).
    public static let gradientBatchSize = 50

    /// Index of the largest logit of each row of `[N, K]` logits.
    public static func argmax(_ logits: Tensor) -> [Int] {
        let n = logits.shape[0], k = logits.shape[1]
        return (0..<n).map { i in
            var best = 0
            for j in 1..<k where logits.data[i * k + j] > logits.data[i * k + best] { best = j }
            return best
        }
    }

    /// Fraction of images whose arg-max logit is the label.
    public static func accuracy(_ model: Model, x: Tensor, y: [Int]) throws -> Double {
        guard !y.isEmpty else { return 0 }
        let pred = argmax(try Evaluation.logits(model, x: x, batchSize: batchSize))
        return Double(zip(pred, y).filter { $0 == $1 }.count) / Double(y.count)
    }

    /// Gradient rows that go backward together: the K one-hot cotangents of a batch go in blocks of classes
    /// of about this many rows, so the backward tensors (which the heap keeps for reuse) stay about two
    /// batches big rather than K. With all K at once the paper trial's sensitivity probe held 1.4 GB more.
    public static let gradientRowsPerPass = 100

    /// Per-class input gradients `∂f_l/∂x` of a batch `[B, C, H, W]`: ONE forward, then the K one-hot
    /// cotangents go backward in blocks of classes (`Layer.inputGradients` with copies, so layers share
    /// masks and skip zeros). Calls `body(l, grad)` for l = 0..<K in order, with `grad [B, C, H, W]` in pixel
    /// space (the model's normalization included); returns the logits `[B, K]`.
    @discardableResult
    public static func forEachClassGradient(_ model: Model, _ x: Tensor, _ body: (Int, Tensor) throws -> Void) throws -> Tensor {
        let logits = try model.forward(x, mode: .eval)
        let b = logits.shape[0], k = logits.shape[1]
        let block = max(1, min(k, gradientRowsPerPass / max(b, 1)))
        var first = 0
        while first < k {
            let m = min(block, k - first)
            var dy = Tensor(zeros: [m * b, k])
            for j in 0..<m {
                for i in 0..<b { dy.data[(j * b + i) * k + first + j] = 1 }
            }
            let grads = try model.inputGradients(dy, copies: m)
            for j in 0..<m { try body(first + j, grads.rows((j * b)..<((j + 1) * b))) }
            first += m
        }
        return logits
    }

    /// All per-class input gradients as `[K, N, C, H, W]` (convenience for tests and small inputs).
    public static func classGradients(_ model: Model, _ x: Tensor) throws -> (logits: Tensor, gradients: Tensor) {
        var parts: [Tensor] = []
        let logits = try forEachClassGradient(model, x) { _, g in parts.append(g) }
        let g = try Tensor.stack(parts)
        return (logits, try g.reshaped([parts.count] + x.shape))
    }
}
