import Foundation
import Testing
import TensorCore
@testable import Datasets

// Archives written by numpy 2.4 itself (ZIP64 local headers, as np.savez writes them):
//   rng = np.random.default_rng(0)
//   x_train = rng.integers(0, 256, (3, 2, 2, 3), np.uint8); y_train = np.array([0, 1, 2])
//   x_test = rng.integers(0, 256, (2, 2, 2, 3), np.uint8);  y_test = np.array([2, 0])
//   np.savez(...) / np.savez_compressed(...) to a BytesIO, base64-encoded below.
private let savez = "UEsDBC0AAAAAAAAAIQB0xVSE//////////8LABQAeF90cmFpbi5ucHkBABAApAAAAAAAAACkAAAAAAAAAJNOVU1QWQEAdgB7J2Rlc2NyJzogJ3x1MScsICdmb3J0cmFuX29yZGVyJzogRmFsc2UsICdzaGFwZSc6ICgzLCAyLCAyLCAzKSwgfSAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAKX4LC2c/rD6Mh19mC+L0QRbjozU6pPX0KHfBCE7YnOwQ7Ud4sUEsDBC0AAAAAAAAAIQD3QBLq//////////8LABQAeV90cmFpbi5ucHkBABAAmAAAAAAAAACYAAAAAAAAAJNOVU1QWQEAdgB7J2Rlc2NyJzogJzxpOCcsICdmb3J0cmFuX29yZGVyJzogRmFsc2UsICdzaGFwZSc6ICgzLCksIH0gICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAKAAAAAAAAAAABAAAAAAAAAAIAAAAAAAAAUEsDBC0AAAAAAAAAIQBaSrg0//////////8KABQAeF90ZXN0Lm5weQEAEACYAAAAAAAAAJgAAAAAAAAAk05VTVBZAQB2AHsnZGVzY3InOiAnfHUxJywgJ2ZvcnRyYW5fb3JkZXInOiBGYWxzZSwgJ3NoYXBlJzogKDIsIDIsIDIsIDMpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgIAp4ejLQThxApnlZqul/su2AcXtMm0WagvhQSwMELQAAAAAAAAAhAINP8YL//////////woAFAB5X3Rlc3QubnB5AQAQAJAAAAAAAAAAkAAAAAAAAACTTlVNUFkBAHYAeydkZXNjcic6ICc8aTgnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMiwpLCB9ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgCgIAAAAAAAAAAAAAAAAAAABQSwECLQMtAAAAAAAAACEAdMVUhKQAAACkAAAACwAAAAAAAAAAAAAAgAEAAAAAeF90cmFpbi5ucHlQSwECLQMtAAAAAAAAACEA90AS6pgAAACYAAAACwAAAAAAAAAAAAAAgAHhAAAAeV90cmFpbi5ucHlQSwECLQMtAAAAAAAAACEAWkq4NJgAAACYAAAACgAAAAAAAAAAAAAAgAG2AQAAeF90ZXN0Lm5weVBLAQItAy0AAAAAAAAAIQCDT/GCkAAAAJAAAAAKAAAAAAAAAAAAAACAAYoCAAB5X3Rlc3QubnB5UEsFBgAAAAAEAAQA4gAAAFYDAAAAAA=="
private let savezCompressed = "UEsDBC0AAAAIAAAAIQB0xVSE//////////8LABQAeF90cmFpbi5ucHkBABAApAAAAAAAAABvAAAAAAAAAJvsF+obEMnIUMZQrZ6SWpxcpG6loF5Taqiuo6Cell9UUpSYF59flJIKEndLzClOBYoXZyQWpAL5GsY6CkZgZKypo1CrQAbgim86dPP8a/7FitdvNv3YK+C648VZv5W2tVyyH5yEt6lbs1gH3tMBAFBLAwQtAAAACAAAACEA90AS6v//////////CwAUAHlfdHJhaW4ubnB5AQAQAJgAAAAAAAAATAAAAAAAAACb7BfqGxDJyFDGUK2eklqcXKRupaBuk2mhrqOgnpZfVFKUmBefX5SSChJ3S8wpTgWKF2ckFqQC+RrGOpo6CrUKFAAuBihghNJMUBoAUEsDBC0AAAAIAAAAIQBaSrg0//////////8KABQAeF90ZXN0Lm5weQEAEACYAAAAAAAAAGEAAAAAAAAAm+wX6hsQychQxlCtnpJanFykbqWgXlNqqK6joJ6WX1RSlJgXn1+UkgoSd0vMKU4FihdnJBakAvkaRjoKEGSsqaNQq0AG4KqoMrrgJ+OwrDJy1cv6TW8bCqt9ZrvOavoBAFBLAwQtAAAACAAAACEAg0/xgv//////////CgAUAHlfdGVzdC5ucHkBABAAkAAAAAAAAABIAAAAAAAAAJvsF+obEMnIUMZQrZ6SWpxcpG6loG6TaaGuo6Cell9UUpSYF59flJIKEndLzClOBYoXZyQWpAL5GkY6mjoKtQoUAC4mBlQAAFBLAQItAy0AAAAIAAAAIQB0xVSEbwAAAKQAAAALAAAAAAAAAAAAAACAAQAAAAB4X3RyYWluLm5weVBLAQItAy0AAAAIAAAAIQD3QBLqTAAAAJgAAAALAAAAAAAAAAAAAACAAawAAAB5X3RyYWluLm5weVBLAQItAy0AAAAIAAAAIQBaSrg0YQAAAJgAAAAKAAAAAAAAAAAAAACAATUBAAB4X3Rlc3QubnB5UEsBAi0DLQAAAAgAAAAhAINP8YJIAAAAkAAAAAoAAAAAAAAAAAAAAIAB0gEAAHlfdGVzdC5ucHlQSwUGAAAAAAQABADiAAAAVgIAAAAA"

// x.transpose(0, 3, 1, 2).ravel() from numpy: the NCHW order we must produce.
private let trainNCHW: [Float] = [95, 217, 15, 215, 130, 207, 163, 217, 194, 235, 33, 130, 248, 69, 205, 61, 189, 184, 78, 125,
                                  16, 232, 169, 10, 29, 19, 59, 81, 240, 182, 4, 222, 66, 39, 59, 44]
private let testNCHW: [Float] = [120, 208, 64, 89, 122, 78, 166, 170, 50, 28, 121, 233, 127, 128, 76, 154, 178, 113, 155, 130,
                                 237, 123, 69, 248]

@Test(arguments: [false, true])
func readsArchivesWrittenByNumpy(compressed: Bool) throws {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("numpy-\(UUID().uuidString).npz")
    try #require(Data(base64Encoded: compressed ? savezCompressed : savez)).write(to: url)
    defer { try? FileManager.default.removeItem(at: url) }
    let (train, test) = try NumPyImages.load(path: url.path)
    #expect(train.images.shape == [3, 3, 2, 2])
    #expect(test.images.shape == [2, 3, 2, 2])
    #expect(train.images.data == trainNCHW.map { $0 / 255 })
    #expect(test.images.data == testNCHW.map { $0 / 255 })
    #expect(train.labels == [0, 1, 2] && test.labels == [2, 0] && train.classes == 3)
}
