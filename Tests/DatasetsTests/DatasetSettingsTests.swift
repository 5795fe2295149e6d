import Foundation
import Testing
@testable import Datasets

private func decode(_ json: String) throws -> DatasetSettings {
    try JSONDecoder().decode(DatasetSettings.self, from: Data(json.utf8))
}

@Test func defaultsFromAnEmptyObject() throws {
    let s = try decode("{}")
    #expect(s == DatasetSettings())
    #expect(s.name == .synthetic && s.imageSize == 32 && s.filter == .none && s.band == .mixed)
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
