import Foundation
import TensorCore
import ZIPFoundation

/// One `.npy` read as it is inflated, refused as soon as it is too large or runs past its declared size:
/// the zip entry's (or file's) declared size and the `.npy` header are checked against the limit before
/// the payload is read, and bytes beyond the declared size stop the read at once.
struct BoundedNPY {
    let name: String
    /// Bytes the container says this array takes (zip entry's uncompressed size, or the file's size).
    let declared: UInt64
    let limit: Int
    private(set) var header: NPY.Header?
    private var data = Data()

    init(name: String, declared: UInt64, limit: Int) throws {
        self.name = name
        self.declared = declared
        self.limit = limit
        let most = UInt64(limit) + UInt64(NPY.maxHeaderBytes) + 12
        guard declared <= most else {
            throw DatasetError(.badData, "npz: \(name) declares \(declared) bytes, more than one array may take (\(limit) bytes of data)")
        }
    }

    mutating func append(_ chunk: Data) throws {
        data.append(chunk)
        guard UInt64(data.count) <= declared else {
            throw DatasetError(.badData, "npz: \(name) inflates past the \(declared) bytes it declares; the archive is corrupt or hostile")
        }
        guard header == nil, let h = try NumPyImages.npyHeader(data, name: name) else { return }
        guard h.payloadBytes <= limit else {
            throw DatasetError(.badData, "npz: \(name) has shape \(h.shape) of \(h.dtype.rawValue): \(h.payloadBytes) bytes, more than one array may take (\(limit))")
        }
        guard UInt64(h.headerBytes + h.payloadBytes) <= declared else {
            throw DatasetError(.badData, "npz: \(name) has shape \(h.shape) of \(h.dtype.rawValue), which needs \(h.headerBytes + h.payloadBytes) bytes, but only \(declared) are declared (truncated)")
        }
        header = h
        data.reserveCapacity(h.headerBytes + h.payloadBytes)
    }

    /// The array, once every declared byte has arrived.
    func finish() throws -> NPY.Array {
        do { return try NPY.decode(data, name: name) } catch let e as TensorError { throw NumPyImages.datasetError(e) }
    }
}

/// What a dataset holds, known from headers alone.
public struct DataShape: Sendable, Hashable {
    /// Images in the training and test splits.
    public var train: Int, test: Int
    /// Image height and width in pixels.
    public var height: Int, width: Int

    public init(train: Int, test: Int, height: Int, width: Int) {
        self.train = train; self.test = test; self.height = height; self.width = width
    }
}

extension NumPyImages {
    /// Split sizes and image size of a `.npz` file or `.npy` directory from the arrays' headers alone
    /// (an archive entry is inflated only as far as its header): how a sweep is checked against a file
    /// before any trial loads it.
    public static func shape(path: String) throws -> DataShape {
        let dir = try isDirectory(path)
        let archive = dir ? nil : try openArchive(path)
        var headers: [String: NPY.Header] = [:]
        for key in ["x_train", "x_test"] {
            var reader: BoundedNPY
            if let archive {
                let entry = try self.entry(key, in: archive, path: path)
                reader = try BoundedNPY(name: "\(path):\(key)", declared: entry.uncompressedSize, limit: maxArrayBytes)
                do { _ = try archive.extract(entry) { try reader.append($0); if reader.header != nil { throw HeaderRead() } } }
                catch is HeaderRead {} catch let e as DatasetError { throw e } catch {
                    throw DatasetError(.badData, "npz: cannot extract '\(key)' from \(path)", cause: error)
                }
            } else {
                let p = try file(key, in: path)
                let size = (try? FileManager.default.attributesOfItem(atPath: p)[.size] as? Int) ?? 0
                reader = try BoundedNPY(name: p, declared: UInt64(size), limit: maxArrayBytes)
                let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: p))
                defer { try? handle.close() }
                try reader.append(try handle.read(upToCount: NPY.maxHeaderBytes + 12) ?? Data())
            }
            guard let h = reader.header else { throw DatasetError(.badData, "npz: \(path): \(key) ends inside its .npy header") }
            headers[key] = h
        }
        guard let train = headers["x_train"], let test = headers["x_test"] else { throw DatasetError(.badData, "npz: \(path): missing x_train or x_test") }
        let (h, w) = try imageSide(train.shape, train.dtype, name: "x_train", source: path)
        _ = try imageSide(test.shape, test.dtype, name: "x_test", source: path)
        return DataShape(train: train.shape[0], test: test.shape[0], height: h, width: w)
    }

    /// Height and width of an image array's layout (uint8 `[N, H, W(, C)]` or float32 `[N, C, H, W]`).
    static func imageSide(_ shape: [Int], _ dtype: NPY.DType, name: String, source: String) throws -> (Int, Int) {
        switch dtype {
        case .uint8:
            guard shape.count == 4 || shape.count == 3 else {
                throw DatasetError(.badData, "npz: \(source): \(name) is uint8 with shape \(shape); expected [N, H, W, C] or [N, H, W]")
            }
            return (shape[1], shape[2])
        case .float32:
            guard shape.count == 4 else {
                throw DatasetError(.badData, "npz: \(source): \(name) is float32 with shape \(shape); expected [N, C, H, W]")
            }
            return (shape[2], shape[3])
        default:
            throw DatasetError(.unsupportedFormat, "npz: \(source): \(name) has dtype \(dtype) (\(dtype.rawValue)); images must be uint8 [N, H, W, C] or float32 [N, C, H, W]")
        }
    }

    static func npyHeader(_ data: Data, name: String) throws -> NPY.Header? {
        do { return try NPY.header(data, name: name) } catch let e as TensorError { throw datasetError(e) }
    }

    static func datasetError(_ e: TensorError) -> DatasetError {
        DatasetError(e.code == .invalidArgument ? .unsupportedFormat : .badData, e.message, cause: e)
    }
}

/// Thrown from an extraction consumer to stop once a header has arrived.
private struct HeaderRead: Error {}
