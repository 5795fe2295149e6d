import Foundation
import Networks
import TensorCore

/// `fsweep predict`: load a checkpoint, run it on an `.npy` of pixel-space images, save logits.
public enum PredictCommand {
    public static func run(modelDir: String, input: String, output: String, threads: Int) throws {
        Parallel.setThreads(threads)
        let model = try Checkpoint.load(from: URL(fileURLWithPath: modelDir))
        guard let data = FileManager.default.contents(atPath: input) else {
            throw TensorError(.io, "cannot read \(input)")
        }
        let array = try NPY.decode(data, name: input)
        guard array.dtype == .float32 else {
            throw TensorError(.invalidArgument, "\(input): expected float32 NCHW images in [0,1], got dtype \(array.dtype.rawValue)")
        }
        let x = Tensor(uncheckedShape: array.shape, data: array.floats())
        let c = model.config
        try x.expectShape([-1, c.channels, c.imageSize, c.imageSize], "\(input) (the model takes [N, \(c.channels), \(c.imageSize), \(c.imageSize)])")
        let logits = try Evaluation.logits(model, x: x)
        try NPY.encode(logits).write(to: URL(fileURLWithPath: output), options: .atomic)
        print("wrote \(output): logits \(logits.shape)")
    }
}
