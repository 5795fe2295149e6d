import ArgumentParser
import Foundation
import Runner

extension FSweep {
    /// `fsweep predict`: logits of a saved model on arbitrary images.
    struct Predict: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a saved model on images (NCHW float32 in [0,1], .npy) and write logits (.npy).")

        @Argument(help: "Model directory written by `fsweep train` (model.safetensors + model.json).") var modelDir: String
        @Option(help: "Images, .npy, [N, C, H, W] float32 in [0, 1] pixel space.") var input: String
        @Option(help: "Where to write the logits [N, K] as .npy.") var output: String
        @Option var threads: Int = 1

        func run() throws {
            try PredictCommand.run(modelDir: modelDir, input: input, output: output, threads: threads)
        }
    }
}
