import Foundation
import TensorCore

/// CIFAR-10 in its original binary format, read from a user-given directory (no download).
///
/// Files: `data_batch_1.bin` … `data_batch_5.bin` (train) and `test_batch.bin` (test). Each holds
/// `recordsPerFile` records of 3073 bytes: one label byte (0…9), then 3072 pixel bytes, channel-major
/// (1024 red, 1024 green, 1024 blue, each row-major 32×32). Pixels are scaled to [0, 1].
/// Sizes are checked exactly, so a truncated download fails with the file name and both sizes.
public enum CIFAR10 {
    /// Bytes per record: label + 3·32·32 pixels.
    public static let recordSize = 1 + 3 * 32 * 32
    /// Records in each official file.
    public static let officialRecordsPerFile = 10_000
    /// Training files in load order.
    public static let trainFiles = (1...5).map { "data_batch_\($0).bin" }
    /// The test file.
    public static let testFile = "test_batch.bin"
    /// What the official files hold: 50,000 training and 10,000 test images of 32×32.
    public static let shape = DataShape(train: trainFiles.count * officialRecordsPerFile, test: officialRecordsPerFile, height: 32, width: 32)

    /// Loads both splits; `recordsPerFile` exists so tests can use small files of the same format.
    public static func load(directory: String, recordsPerFile: Int = officialRecordsPerFile) throws -> (train: ImageSet, test: ImageSet) {
        let train = try loadFiles(trainFiles, directory: directory, recordsPerFile: recordsPerFile)
        let test = try loadFiles([testFile], directory: directory, recordsPerFile: recordsPerFile)
        return (train, test)
    }

    /// Loads and concatenates the given files of one split.
    public static func loadFiles(_ names: [String], directory: String, recordsPerFile: Int) throws -> ImageSet {
        guard recordsPerFile > 0 else {
            throw DatasetError(.invalidArgument, "cifar10: records per file must be positive, got \(recordsPerFile)")
        }
        let plane = 3 * 32 * 32
        let n = names.count * recordsPerFile
        var pixels = [Float](repeating: 0, count: n * plane)
        var labels = [Int]()
        labels.reserveCapacity(n)
        for (f, name) in names.enumerated() {
            let path = URL(fileURLWithPath: directory).appendingPathComponent(name).path
            guard FileManager.default.fileExists(atPath: path) else {
                throw DatasetError(.io, "cifar10: missing file \(path) (expected \(trainFiles.joined(separator: ", ")) and \(testFile) in data_dir)")
            }
            let data: Data
            do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
                throw DatasetError(.io, "cifar10: cannot read \(path)", cause: error)
            }
            let expected = recordsPerFile * recordSize
            guard data.count == expected else {
                let what = data.count < expected ? "truncated" : "too large"
                throw DatasetError(.badData, "cifar10: \(path) is \(what): expected \(expected) bytes (\(recordsPerFile) records of \(recordSize)), got \(data.count) bytes")
            }
            try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
                for r in 0..<recordsPerFile {
                    let base = r * recordSize
                    let label = Int(raw[base])
                    guard label < 10 else {
                        throw DatasetError(.badData, "cifar10: \(path) record \(r) has label \(label), expected 0…9")
                    }
                    labels.append(label)
                    let dst = (f * recordsPerFile + r) * plane
                    for k in 0..<plane { pixels[dst + k] = Float(raw[base + 1 + k]) / 255 }
                }
            }
        }
        return ImageSet(unchecked: Tensor(uncheckedShape: [n, 3, 32, 32], data: pixels), labels: labels, classes: 10)
    }
}
