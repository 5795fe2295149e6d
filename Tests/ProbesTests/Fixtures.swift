import Foundation
import Testing
import Datasets
import Networks
import TensorCore
@testable import Probes
import Trials

/// Sets every parameter named `name` of the model.
func setParameter(_ model: Model, _ name: String, _ values: [Float]) throws {
    guard let p = model.parameters.first(where: { $0.name == name }) else {
        Issue.record("no parameter \(name) in \(model.parameters.map(\.name))")
        return
    }
    p.value = try Tensor(shape: p.value.shape, data: values)
}

/// A batch source over an image set (seeded shuffling), for training in tests.
struct SetBatches: BatchSource {
    let set: ImageSet
    let batchSize: Int
    func batches(epoch: Int) -> AnyIterator<Batch> {
        guard var it = try? BatchIterator(set, batchSize: batchSize, epoch: epoch, seed: 11) else {
            Issue.record("bad batch size \(batchSize)")
            return AnyIterator { nil }
        }
        return AnyIterator { it.next().map { Batch(x: $0.x, y: $0.y) } }
    }
}

/// Uniform random images in [lo, hi].
func randomImages(_ n: Int, c: Int = 3, size: Int, seed: UInt64, lo: Float = 0, hi: Float = 1) -> Tensor {
    var rng = SeededRNG(seed: seed)
    return Tensor.randomUniform([n, c, size, size], lo, hi, rng: &rng)
}

/// A linear classifier blind to every frequency but a few low ones: class `k`'s weight on each channel is
/// the basis image of `templateFrequencies[k]`; images are `0.5 + amplitude·U_k` on every channel.
/// Without clipping a perturbation at any other frequency changes no logit.
struct TemplateTask {
    static let templateFrequencies = [(0, 1), (1, 0), (1, 1), (1, 7)]
    let size = 8
    let model: Model
    let set: ImageSet

    init(imagesPerClass: Int = 6, amplitude: Float = 0.5) throws {
        let k = Self.templateFrequencies.count, plane = size * size
        model = try Model(ModelConfig(arch: .convactually, depth: 1, width: 4, classes: k, channels: 3, imageSize: size), seed: 1)
        var w = [Float](repeating: 0, count: k * 3 * plane)
        var basis: [Tensor] = []
        for (l, f) in Self.templateFrequencies.enumerated() {
            let u = try FourierBasis.image(f.0, f.1, h: size, w: size)
            basis.append(u)
            for c in 0..<3 { for q in 0..<plane { w[(l * 3 + c) * plane + q] = u.data[q] } }
        }
        try setParameter(model, "fc.weight", w)
        // A tiny bias for the last class breaks the tie when every template is filtered out (logits ≈ 0 ± rounding).
        try setParameter(model, "fc.bias", [Float](repeating: 0, count: k - 1) + [1e-3])
        var x = [Float](), y = [Int]()
        for _ in 0..<imagesPerClass {
            for l in 0..<k {
                for _ in 0..<3 { x += basis[l].data.map { 0.5 + amplitude * $0 } }
                y.append(l)
            }
        }
        set = try ImageSet(images: Tensor(shape: [y.count, 3, size, size], data: x), labels: y, classes: k)
    }
}
