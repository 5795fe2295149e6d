import Foundation
import Testing
@testable import Datasets

private func decode(_ json: String) throws -> DatasetSettings {
    try JSONDecoder().decode(DatasetSettings.self, from: Data(json.utf8))
}

@Test func defaultsFromAnEmptyObject() throws {
    let s = try decode("{}")
    #expect(s == DatasetSettings())
    #expect(s.name == .synthetic && s.imageSize == nil && s.syntheticSpec.imageSize == 32 && s.filter == .none && s.band == .mixed)
    #expect(s.alpha == 2 && s.snr == SyntheticDataset.defaultSNR && !s.augment && s.augmentation == nil)
    #expect(s.frequencyFilter(imageSize: 32) == nil)
}

@Test func snakeCaseKeysDecodeAndRoundTrip() throws {
    let s = try decode(#"{"name": "synthetic", "image_size": 16, "train_size": 100, "test_size": 50, "filter": "hpf", "filter_compat": "paper", "band": "high", "alpha": 1.5, "snr": 0.7, "augment": true, "data_seed": 9}"#)
    #expect(s.imageSize == 16 && s.trainSize == 100 && s.testSize == 50 && s.filter == .hpf && s.filterCompat == .paper)
    #expect(s.band == .high && s.alpha == 1.5 && s.snr == 0.7 && s.augment && s.dataSeed == 9)
    #expect(s.frequencyFilter(imageSize: 16) == FrequencyFilter(kind: .highPass, shape: .square, compat: .paper, cutoff: 4))
    let back = try JSONDecoder().decode(DatasetSettings.self, from: JSONEncoder().encode(s))
    #expect(back == s)
    let json = String(decoding: try JSONEncoder().encode(s), as: UTF8.self)
    #expect(json.contains("\"image_size\"") && json.contains("\"filter_compat\""))
}

@Test func unknownKeyIsRejectedByName() {
    let error = #expect(throws: DatasetError.self) { try decode(#"{"name": "synthetic", "imgae_size": 16}"#) }
    #expect(error?.code == .invalidSettings)
    #expect(error?.message.contains("'imgae_size'") == true)
}

@Test func badValuesAreClearErrors() {
    let e1 = #expect(throws: DatasetError.self) { try decode(#"{"filter": "bandpass"}"#) }
    #expect(e1?.message.contains("bandpass") == true && e1?.message.contains("hpf") == true)
    let e2 = #expect(throws: DatasetError.self) { try decode(#"{"name": "cifar10"}"#) }
    #expect(e2?.message.contains("data_dir") == true)
    #expect(throws: DatasetError.self) { try decode(#"{"train_size": 0}"#) }
    #expect(throws: DatasetError.self) { try decode(#"{"snr": -1}"#) }
}

@Test(arguments: [3, 1025, 100_000])
func imageSizesOutsideTheRangeNameTheKey(size: Int) {
    // 100000 must not reach the synthetic generator (an 80 GB allocation)
    let e = #expect(throws: DatasetError.self) { try decode(#"{"image_size": \#(size)}"#) }
    #expect(e?.key == "image_size" && e?.message == "dataset: image_size must be 4…1024, got \(size)")
}

@Test func syntheticSplitsAreBoundedByTheMemoryTheyTake() throws {
    // 3×32×32 float32 images take 12288 bytes: 4 GiB hold 349525 of them
    #expect(SyntheticDataset.maxImages(.init(imageSize: 32)) == (4 << 30) / 12288)
    #expect(SyntheticDataset.maxImages(.init(imageSize: 32)) == 349_525)
    _ = try decode(#"{"image_size": 32, "train_size": 349525}"#)
    let e = #expect(throws: DatasetError.self) { try decode(#"{"image_size": 32, "train_size": 349526}"#) }
    #expect(e?.key == "train_size")
    #expect(e?.message == "dataset: train_size 349526: synthetic images of 3×32×32 take 12288 bytes each, and a generated split may take 4 GiB: at most 349525 images at this size")
    // the default split size is checked too: 10000 images of 1024 px would take 120 GiB
    let d = #expect(throws: DatasetError.self) { try decode(#"{"image_size": 1024}"#) }
    #expect(d?.key == "train_size" && d?.message.contains("train_size 10000 (the default)") == true)
    // the generator refuses on its own, whatever called it
    #expect(throws: DatasetError.self) { try SyntheticDataset.generate(.init(imageSize: 32), count: 349_526, split: .train, seed: 0) }
}

@Test func fileDataIsCheckedAgainstWhatItHolds() throws {
    let shape = DataShape(train: 50, test: 20, height: 16, width: 16)
    var s = try decode(#"{"name": "npz", "path": "d.npz", "train_size": 50, "test_size": 20}"#)
    try s.check(against: shape, source: "npz d.npz")
    s.trainSize = 51
    let t = #expect(throws: DatasetError.self) { try s.check(against: shape, source: "npz d.npz") }
    #expect(t?.key == "train_size" && t?.message == "dataset: train_size 51 but npz d.npz has 50 training images")
    s.trainSize = nil
    s.testSize = 21
    #expect((#expect(throws: DatasetError.self) { try s.check(against: shape, source: "x") })?.key == "test_size")
    s.testSize = nil
    s.imageSize = 32
    let i = #expect(throws: DatasetError.self) { try s.check(against: shape, source: "npz d.npz") }
    #expect(i?.key == "image_size")
    #expect(i?.message == "dataset: image_size 32 but the images of npz d.npz are 16×16; leave image_size out to use the data's own size")
    s.imageSize = 16
    try s.check(against: shape, source: "npz d.npz")
}
