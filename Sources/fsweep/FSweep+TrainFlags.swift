import Trials

extension FSweep.Train {
    /// The flags given on the command line as dotted setting paths, the names sweep files use; they override
    /// a `--config` file's values (flags not given leave the file's values alone).
    var flagSettings: [String: JSONValue] {
        var out: [String: JSONValue] = [:]
        func put(_ key: String, _ value: JSONValue?) { if let value { out[key] = value } }
        let number = { (x: Double?) in x.map(JSONValue.number) }
        let int = { (x: Int?) in x.map { JSONValue.number(Double($0)) } }
        put("model.arch", arch.map { .string($0.rawValue) })
        put("model.depth", int(depth)); put("model.width", int(width))
        put("model.activation", activation.map { .string($0.rawValue) })
        put("model.batch_norm", batchNorm ? .bool(true) : nil)
        put("dataset.name", dataset.map { .string($0.rawValue) })
        put("dataset.data_dir", dataDir.map(JSONValue.string)); put("dataset.path", dataPath.map(JSONValue.string))
        put("dataset.image_size", int(imageSize)); put("dataset.train_size", int(trainSize)); put("dataset.test_size", int(testSize))
        put("dataset.filter", filter.map { .string($0.rawValue) }); put("dataset.band", band.map { .string($0.rawValue) })
        put("dataset.augment", augment ? .bool(true) : nil)
        put("train.epochs", int(epochs)); put("train.batch_size", int(batchSize)); put("train.lr", number(lr))
        put("train.momentum", number(momentum)); put("train.weight_decay", number(weightDecay))
        put("train.schedule", schedule.map { .string($0.rawValue) })
        put("seed", int(seed))
        return out
    }
}
