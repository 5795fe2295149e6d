import Foundation
import Testing
import TensorCore
@testable import Networks
import TestSupport
import Trials

@Suite struct LossTests {
    @Test func crossEntropyMatchesClosedFormAndFiniteDifferences() throws {
        var rng = SeededRNG(seed: 1)
        let logits = Tensor.randomNormal([4, 5], std: 2, rng: &rng)
        let labels = [0, 3, 4, 1]
        let (loss, grad, _) = try SoftmaxCrossEntropy.evaluate(logits: logits, labels: labels)
        var expected = 0.0
        for i in 0..<4 {
            let row = (0..<5).map { Double(logits[i, $0]) }
            expected += -row[labels[i]] + log(row.map { exp($0) }.reduce(0, +))
        }
        expectClose(loss, expected / 4, .absolute(1e-6))
        for i in 0..<logits.count {
            var p = logits, m = logits
            p.data[i] += 1e-2; m.data[i] -= 1e-2
            let fd = (try SoftmaxCrossEntropy.evaluate(logits: p, labels: labels).loss
                - SoftmaxCrossEntropy.evaluate(logits: m, labels: labels).loss) / 2e-2
            expectClose(Double(grad.data[i]), fd, .absolute(1e-4))
        }
    }

    @Test func hugeLogitsStayFiniteAndBadLabelsAreRejected() throws {
        let logits = try Tensor(shape: [1, 3], data: [1e4, -1e4, 0])
        let r = try SoftmaxCrossEntropy.evaluate(logits: logits, labels: [1])
        expectClose(r.loss, 2e4, .absolute(1))
        #expect(r.grad.isFinite)
        #expect(throws: TensorError.self) { try SoftmaxCrossEntropy.evaluate(logits: logits, labels: [3]) }
    }
}

@Suite struct SGDTests {
    @Test func weightDecayShrinksWeightsExactlyAsTheUpdateRulePredicts() {
        // Zero-gradient problem: g = wd·w, v ← μv + g, w ← w − lr·v. Biases (decays=false) never move.
        let w = Parameter("w", Tensor(repeating: 2, shape: [3]), decays: true)
        let b = Parameter("b", Tensor(repeating: 2, shape: [3]), decays: false)
        let lr = 0.1, mu = 0.9, wd = 0.01
        let opt = SGD(learningRate: Float(lr), momentum: Float(mu), weightDecay: Float(wd))
        var ew = 2.0, ev = 0.0
        for _ in 0..<20 {
            opt.step([w, b])
            ev = mu * ev + wd * ew
            ew -= lr * ev
        }
        for v in w.value.data { expectClose(Double(v), ew, .absolute(1e-5)) }
        #expect(ew < 2)
        #expect(b.value.data == [2, 2, 2])
    }

    @Test func schedulesFollowTheirFormulas() {
        var cos = LRScheduler(.cosine(minLR: 0), initialLR: 1, epochs: 4)
        expectClose(cos.endEpoch(1, trainLoss: 1), 0.5, .absolute(1e-12))  // after 2 of 4 epochs
        var step = LRScheduler(.step(stepSize: 2, gamma: 0.5), initialLR: 1, epochs: 10)
        #expect(step.endEpoch(0, trainLoss: 1) == 1)
        #expect(step.endEpoch(1, trainLoss: 1) == 0.5)
        var plateau = LRScheduler(.plateau(factor: 0.1, patience: 2, minLR: 0.005), initialLR: 1, epochs: 100)
        plateau.endEpoch(0, trainLoss: 1)
        for e in 1...3 { plateau.endEpoch(e, trainLoss: 1) }  // 3 bad epochs > patience 2
        expectClose(plateau.lr, 0.1, .absolute(1e-12))
        for e in 4...6 { plateau.endEpoch(e, trainLoss: 1) }
        expectClose(plateau.lr, 0.01, .absolute(1e-12))
        #expect(!plateau.shouldStop)
        for e in 7...9 { plateau.endEpoch(e, trainLoss: 1) }
        #expect(plateau.shouldStop, "next rate 0.001 is below min_lr")
    }
}
