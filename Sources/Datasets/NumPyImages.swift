import Foundation
import TensorCore
import ZIPFoundation

/// Image sets from NumPy files, so users bring any dataset without conversion code.
///
/// Layout: four arrays named `x_train`, `y_train`, `x_test`, `y_test`, either as entries of one
/// `.npz` (`np.savez` stored or `np.savez_compressed` deflated) or as `<name>.npy` files in a directory.
/// - images: `uint8` `[N, H, W, C]` (channels last, 0…255, scaled by 1/255), `uint8` `[N, H, W]`
///   (grayscale), or `float32` `[N, C, H, W]` (channels first, used as given, expected in [0, 1]);
/// - labels: integer (`uint8`, `int32`, `int64`) `[N]` with values in `0..<K`; `K = max label + 1`
///   over both splits.
/// Any other dtype (float64 images, float labels, bool, …) is rejected with the array's name.
///
/// Bounded: no array may hold more than `maxArrayBytes` (a limit checked against the zip entry's
/// declared size and the `.npy` header before anything is inflated), and reading stops with an error as
/// soon as an entry inflates past what it declares — a few-megabyte zip bomb costs nothing.
public enum NumPyImages {
    /// Array names in the file.
    public static let keys = ["x_train", "y_train", "x_test", "y_test"]
    /// Largest array payload read (2 GiB: ten CIFAR-10s of uint8 pixels; its float copy takes four times that).
    public static let maxArrayBytes = 2 << 30

    /// Loads a `.npz` file, or a directory of `.npy` files, into train and test sets.
    public static func load(path: String) throws -> (train: ImageSet, test: ImageSet) {
        try load(path: path, limit: maxArrayBytes)
    }

    static func load(path: String, limit: Int) throws -> (train: ImageSet, test: ImageSet) {
        let arrays = try isDirectory(path) ? readDirectory(path, limit: limit) : readNPZ(path, limit: limit)
        return try assemble(arrays, source: path)
    }

    static func isDirectory(_ path: String) throws -> Bool {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw DatasetError(.io, "npz: no file or directory at \(path)")
        }
        return isDir.boolValue
    }

    /// Reads the four arrays from a `.npz` archive (stored or deflated entries), each bounded by `limit`.
    static func readNPZ(_ path: String, limit: Int) throws -> [String: NPY.Array] {
        let archive = try openArchive(path)
        var out = [String: NPY.Array]()
        for key in keys {
            let entry = try self.entry(key, in: archive, path: path)
            var reader = try BoundedNPY(name: "\(path):\(key)", declared: entry.uncompressedSize, limit: limit)
            do { _ = try archive.extract(entry) { try reader.append($0) } } catch let e as DatasetError { throw e } catch {
                throw DatasetError(.badData, "npz: cannot extract '\(key)' from \(path)", cause: error)
            }
            out[key] = try reader.finish()
        }
        return out
    }

    /// Reads `x_train.npy` … from a directory, each bounded by `limit` before it is read.
    static func readDirectory(_ dir: String, limit: Int) throws -> [String: NPY.Array] {
        var out = [String: NPY.Array]()
        for key in keys {
            let p = try file(key, in: dir)
            let size = (try? FileManager.default.attributesOfItem(atPath: p)[.size] as? Int) ?? 0
            var reader = try BoundedNPY(name: p, declared: UInt64(size), limit: limit)
            guard let data = FileManager.default.contents(atPath: p) else {
                throw DatasetError(.io, "npy: cannot read \(p)")
            }
            try reader.append(data)
            out[key] = try reader.finish()
        }
        return out
    }

    static func openArchive(_ path: String) throws -> Archive {
        do { return try Archive(url: URL(fileURLWithPath: path), accessMode: .read) } catch {
            throw DatasetError(.badData, "npz: \(path) is not a readable zip archive (.npz)", cause: error)
        }
    }

    static func entry(_ key: String, in archive: Archive, path: String) throws -> Entry {
        guard let entry = archive[key + ".npy"] else {
            let present = archive.map(\.path).sorted().joined(separator: ", ")
            throw DatasetError(.badData, "npz: \(path) has no array '\(key)' (found: \(present.isEmpty ? "nothing" : present); expected \(keys.joined(separator: ", ")))")
        }
        return entry
    }

    static func file(_ key: String, in dir: String) throws -> String {
        let p = URL(fileURLWithPath: dir).appendingPathComponent(key + ".npy").path
        guard FileManager.default.isReadableFile(atPath: p) else {
            throw DatasetError(.io, "npy: missing or unreadable \(p) (a directory needs \(keys.map { $0 + ".npy" }.joined(separator: ", ")))")
        }
        return p
    }

    static func assemble(_ a: [String: NPY.Array], source: String) throws -> (train: ImageSet, test: ImageSet) {
        let xTrain = try images(a["x_train"], name: "x_train", source: source)
        let xTest = try images(a["x_test"], name: "x_test", source: source)
        let yTrain = try labels(a["y_train"], name: "y_train", source: source, count: xTrain.shape[0])
        let yTest = try labels(a["y_test"], name: "y_test", source: source, count: xTest.shape[0])
        guard Array(xTrain.shape.dropFirst()) == Array(xTest.shape.dropFirst()) else {
            throw DatasetError(.badData, "npz: \(source): x_train images are \(Array(xTrain.shape.dropFirst())) but x_test images are \(Array(xTest.shape.dropFirst())) ([C, H, W])")
        }
        let classes = max(yTrain.max() ?? 0, yTest.max() ?? 0) + 1
        return (ImageSet(unchecked: xTrain, labels: yTrain, classes: classes),
                ImageSet(unchecked: xTest, labels: yTest, classes: classes))
    }

    /// Converts an image array to `[N, C, H, W]` floats.
    static func images(_ arr: NPY.Array?, name: String, source: String) throws -> Tensor {
        guard let arr else { throw DatasetError(.badData, "npz: \(source): missing \(name)") }
        let (h, w) = try imageSide(arr.shape, arr.dtype, name: name, source: source)
        if arr.dtype == .float32 {
            let t = Tensor(uncheckedShape: arr.shape, data: arr.floats())
            guard t.data.allSatisfy(\.isFinite) else {
                throw DatasetError(.badData, "npz: \(source): \(name) contains NaN or infinite values")
            }
            return t
        }
        let n = arr.shape[0], c = arr.shape.count == 4 ? arr.shape[3] : 1
        var out = [Float](repeating: 0, count: n * c * h * w)
        arr.payload.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            for i in 0..<n {
                for y in 0..<h {
                    for x in 0..<w {
                        for ch in 0..<c {
                            out[((i * c + ch) * h + y) * w + x] = Float(raw[((i * h + y) * w + x) * c + ch]) / 255
                        }
                    }
                }
            }
        }
        return Tensor(uncheckedShape: [n, c, h, w], data: out)
    }

    /// Converts a label array to class indices, checking count and range.
    static func labels(_ arr: NPY.Array?, name: String, source: String, count: Int) throws -> [Int] {
        guard let arr else { throw DatasetError(.badData, "npz: \(source): missing \(name)") }
        switch arr.dtype {
        case .uint8, .int32, .int64: break
        default:
            throw DatasetError(.unsupportedFormat, "npz: \(source): \(name) has dtype \(arr.dtype) (\(arr.dtype.rawValue)); labels must be an integer array (uint8, int32 or int64)")
        }
        guard arr.shape == [count] || arr.shape == [count, 1] else {
            throw DatasetError(.badData, "npz: \(source): \(name) has shape \(arr.shape); expected [\(count)] to match the images")
        }
        let l = arr.ints()
        if let bad = l.first(where: { $0 < 0 }) {
            throw DatasetError(.badData, "npz: \(source): \(name) has negative label \(bad)")
        }
        return l
    }
}
