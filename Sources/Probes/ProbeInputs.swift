import Datasets
import Foundation
import Networks
import TensorCore
import Trials

/// Assembles `ProbeData` for a saved model from command-line choices (`fsweep probe`).
public enum ProbeInputs {
    /// Synthetic training images loaded when none are requested (enough for the data spectrum's 5000).
    public static let syntheticTrainImages = 5000

    /// Loads `--images` (if given) and the dataset (if given, or synthetic when there are no images).
    /// Synthetic data takes the model's image size and class count unless told otherwise.
    public static func load(model: Model, images: String?, dataset: DatasetSettings.Name?, dataDir: String?,
                            imageSize: Int?, testSize: Int?, trainSize: Int?, filter: DatasetSettings.Filter,
                            band: FrequencyBand, seed: UInt64) throws -> ProbeData {
        var data = ProbeData()
        if let images {
            let url = URL(fileURLWithPath: images)
            guard let bytes = try? Data(contentsOf: url) else {
                throw ProbeError(.invalidData, "cannot read --images \(images)")
            }
            let x = try NPY.decodeTensor(bytes, name: images)
            try ProbeData.checkFits(x, model: model, "--images")
            data.images = x
        }
        if dataset != nil || images == nil {
            var s = DatasetSettings()
            s.name = dataset ?? .synthetic
            s.imageSize = imageSize ?? model.config.imageSize
            s.classes = model.config.classes
            s.band = band
            s.filter = filter
            s.testSize = testSize
            s.trainSize = trainSize ?? (s.name == .synthetic ? syntheticTrainImages : nil)
            if s.name == .cifar10 { s.dataDir = dataDir }
            if s.name == .npz { s.path = dataDir }
            let (train, test) = try DatasetLoader.load(s, seed: seed)
            guard test.classes <= model.config.classes else {
                throw ProbeError(.invalidData, "the dataset has \(test.classes) classes, the model only \(model.config.classes)")
            }
            data.train = train
            data.test = test
        }
        return data
    }
}
