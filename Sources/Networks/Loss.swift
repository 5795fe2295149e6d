import TensorCore

/// Mean softmax cross-entropy over a batch, computed with the log-sum-exp shift so large logits
/// never overflow.
public enum SoftmaxCrossEntropy {
    /// Loss (Double), `dL/dlogits` for the batch mean, and the number of correct arg-max predictions.
    public static func evaluate(logits: Tensor, labels: [Int]) throws -> (loss: Double, grad: Tensor, correct: Int) {
        try logits.expectShape([labels.count, -1], "cross-entropy logits")
        let n = labels.count, k = logits.shape[1]
        var grad = Tensor(zeros: logits.shape)
        var total = 0.0, correct = 0
        for i in 0..<n {
            let y = labels[i]
            guard y >= 0 && y < k else {
                throw TensorError(.invalidArgument, "label \(y) of example \(i) is outside 0..<\(k)")
            }
            let row = Array(logits.data[(i * k)..<((i + 1) * k)])
            let mx = row.max() ?? 0
            var z = 0.0
            for v in row { z += exp(Double(v - mx)) }
            let logZ = Double(mx) + log(z)
            total += logZ - Double(row[y])
            var best = 0
            for j in 0..<k {
                if row[j] > row[best] { best = j }
                grad.data[i * k + j] = Float(exp(Double(row[j]) - logZ) / Double(n))
            }
            grad.data[i * k + y] -= 1 / Float(n)
            if best == y { correct += 1 }
        }
        return (total / Double(n), grad, correct)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
