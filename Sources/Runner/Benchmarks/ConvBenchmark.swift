import Dispatch
import Networks
import TensorCore
import Trials

/// `fsweep bench conv`: GFLOP/s of each pass of the 3×3 convolutions of Myrtle and VGG through the
/// engine's `Conv2D` layer (whatever path its plan takes: Winograd, oneDNN, unrolled, batch GEMM, im2col), against
/// the FMA peak measured in the same run.
public enum ConvBenchmark {
    /// One layer shape's rates, GFLOP/s of wall time on the given threads.
    public struct Entry: Sendable {
        public var name: String
        public var forward: Double
        public var inputGradient: Double
        public var weightGradient: Double
    }

    /// (channels in, map size, channels out): every distinct 3×3 convolution of Myrtle and VGG11 at 32px.
    public static let shapes: [(Int, Int, Int)] = [
        (64, 32, 128), (64, 16, 128), (128, 16, 256), (128, 8, 256), (256, 8, 256), (256, 8, 512),
        (256, 4, 512), (512, 4, 512), (512, 2, 512),
    ]

    /// Fastest of `repeats` timings per pass after one warm-up (the VM's speed drifts; the fastest run
    /// is the one least disturbed by other tenants). The weight gradient is timed alone
    /// (`parameterGradients`, no input gradient), as the first layer of a training step runs it.
    public static func run(threads: Int, batch: Int = 128, repeats: Int = 7,
                           log: (String) -> Void = { _ in }) throws -> (peak: Double, entries: [Entry]) {
        Parallel.setThreads(threads)
        let peak = FMAPeak.measure(threads: threads)
        ProcessSetup.once()  // heap reuse, our loops on oneDNN's thread team, as in training
        var rng = SeededRNG(seed: 3)
        var out: [Entry] = []
        for (c, size, o) in shapes {
            let layer = try Conv2D(inChannels: c, outChannels: o, kernel: 3, padding: 1, name: "bench", rng: &rng)
            let x = Tensor.randomUniform([batch, c, size, size], -1, 1, rng: &rng)
            let dy = Tensor.randomUniform([batch, o, size, size], -1, 1, rng: &rng)
            func fastest(_ body: () throws -> Void) rethrows -> Double {
                try body()
                var best = Double.infinity
                for _ in 0..<repeats {
                    let t0 = DispatchTime.now().uptimeNanoseconds
                    try body()
                    best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9)
                }
                return best
            }
            let tf = try fastest { _ = try layer.forward(x, mode: .train) }
            let td = try fastest { _ = try layer.backward(dy, parameterGradients: false) }
            let tw = try fastest { try layer.parameterGradients(dy) }
            let flops = 2 * Double(batch * c * o * 9 * size * size) / 1e9
            let e = Entry(name: "\(c)→\(o) @\(size)×\(size)", forward: flops / tf, inputGradient: flops / td,
                          weightGradient: flops / tw)
            log(String(format: "%-18@ forward %6.1f GFLOP/s (%3.0f%%)  input grad %6.1f (%3.0f%%)  weight grad %6.1f (%3.0f%%)",
                       e.name, e.forward, 100 * e.forward / peak, e.inputGradient, 100 * e.inputGradient / peak,
                       e.weightGradient, 100 * e.weightGradient / peak))
            out.append(e)
        }
        return (peak, out)
    }
}
