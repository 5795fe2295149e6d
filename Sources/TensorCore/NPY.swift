import Foundation

/// NumPy `.npy` (format 1.0/2.0) encoding and decoding: the interchange format for every array
/// fsweep reads or writes, so results open directly in `numpy.load`.
public enum NPY {
    /// Element types fsweep reads; writes are always little-endian float32 unless stated.
    public enum DType: String, Sendable {
        case float32 = "<f4", float64 = "<f8", uint8 = "|u1", int64 = "<i8", int32 = "<i4"
        var size: Int {
            switch self { case .float32, .int32: 4; case .float64, .int64: 8; case .uint8: 1 }
        }
    }

    /// A decoded array: shape, dtype and the raw little-endian, C-ordered payload.
    public struct Array: Sendable {
        public var shape: [Int]
        public var dtype: DType
        public var payload: Data

        /// The values converted to Float (uint8 stays 0…255).
        public func floats() -> [Float] {
            let n = shape.reduce(1, *)
            var out = [Float](repeating: 0, count: n)
            payload.withUnsafeBytes { raw in
                switch dtype {
                case .float32: for i in 0..<n { out[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
                case .float64: for i in 0..<n { out[i] = Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))) }
                case .uint8: for i in 0..<n { out[i] = Float(raw[i]) }
                case .int64: for i in 0..<n { out[i] = Float(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self))) }
                case .int32: for i in 0..<n { out[i] = Float(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self))) }
                }
            }
            return out
        }

        /// The values as integers (for label arrays).
        public func ints() -> [Int] { floats().map { Int($0) } }
    }

    /// Encodes float32 values with a shape.
    public static func encode(_ values: [Float], shape: [Int]) -> Data {
        var payload = Data(capacity: values.count * 4)
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { payload.append(contentsOf: $0) } }
        return encode(payload: payload, dtype: .float32, shape: shape)
    }

    /// Encodes a tensor as float32.
    public static func encode(_ t: Tensor) -> Data { encode(t.data, shape: t.shape) }

    /// Encodes a raw payload with an explicit dtype.
    public static func encode(payload: Data, dtype: DType, shape: [Int]) -> Data {
        let dims = shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? "," : "")
        var header = "{'descr': '\(dtype.rawValue)', 'fortran_order': False, 'shape': (\(dims)), }"
        // Pad so that magic(6) + version(2) + len(2) + header + '\n' is a multiple of 64.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var out = Data([0x93] + Swift.Array("NUMPY".utf8) + [1, 0])
        let hl = UInt16(header.utf8.count)
        out.append(UInt8(hl & 0xFF)); out.append(UInt8(hl >> 8))
        out.append(contentsOf: header.utf8)
        out.append(payload)
        return out
    }

    /// A parsed `.npy` header: what the payload holds and how long it is, known before it is read.
    public struct Header: Sendable {
        public var shape: [Int]
        public var dtype: DType
        /// Bytes before the payload (magic, version, length field and header text).
        public var headerBytes: Int
        /// Bytes of the payload: product of the shape × element size (checked for overflow).
        public var payloadBytes: Int
    }

    /// Longest header accepted; numpy writes under 200 bytes and reads at most 10,000 by default.
    public static let maxHeaderBytes = 65_536

    /// Parses the header at the start of `data`, which may hold only a prefix of the file: nil means
    /// "read more" (the header is longer than `data`). A shape whose size overflows is an error, so a
    /// hostile header cannot make a caller allocate or trap.
    public static func header(_ data: Data, name: String = "array") throws -> Header? {
        let bytes = [UInt8](data.prefix(12))
        if bytes.count < 10 { return nil }
        guard bytes[0] == 0x93, Swift.Array(bytes[1...5]) == Swift.Array("NUMPY".utf8) else {
            throw TensorError(.corruptData, "\(name): not a .npy file (bad magic)")
        }
        let major = bytes[6]
        let headerLen: Int, start: Int
        if major == 1 {
            headerLen = Int(bytes[8]) | Int(bytes[9]) << 8; start = 10
        } else if major == 2 || major == 3 {
            if bytes.count < 12 { return nil }
            headerLen = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24; start = 12
        } else {
            throw TensorError(.corruptData, "\(name): unsupported .npy version \(major)")
        }
        guard headerLen <= maxHeaderBytes else {
            throw TensorError(.corruptData, "\(name): .npy header of \(headerLen) bytes is longer than \(maxHeaderBytes)")
        }
        if data.count < start + headerLen { return nil }
        guard let header = String(data: data.subdata(in: data.startIndex + start ..< data.startIndex + start + headerLen), encoding: .utf8) else {
            throw TensorError(.corruptData, "\(name): .npy header is not text")
        }
        guard let descr = field(header, "descr") else { throw TensorError(.corruptData, "\(name): .npy header has no descr") }
        let normalized = descr == "<u1" ? "|u1" : descr
        guard let dtype = DType(rawValue: normalized) else {
            throw TensorError(.invalidArgument, "\(name): unsupported dtype '\(descr)' (supported: float32, float64, uint8, int32, int64, little-endian)")
        }
        if header.contains("'fortran_order': True") {
            throw TensorError(.invalidArgument, "\(name): Fortran-ordered arrays are not supported; save with np.ascontiguousarray")
        }
        guard let open = header.range(of: "'shape': ("), let close = header[open.upperBound...].firstIndex(of: ")") else {
            throw TensorError(.corruptData, "\(name): .npy header has no shape")
        }
        let shape = try header[open.upperBound..<close].split(separator: ",").map { s -> Int in
            guard let v = Int(s.trimmingCharacters(in: .whitespaces)), v >= 0 else {
                throw TensorError(.corruptData, "\(name): bad shape entry '\(s)'")
            }
            return v
        }
        var payload = dtype.size
        for d in shape {
            let (p, overflow) = payload.multipliedReportingOverflow(by: d)
            guard !overflow else { throw TensorError(.corruptData, "\(name): shape \(shape) is too large to address") }
            payload = p
        }
        return Header(shape: shape, dtype: dtype, headerBytes: start + headerLen, payloadBytes: payload)
    }

    /// Decodes a `.npy` blob; `name` appears in errors so users know which file is wrong.
    public static func decode(_ data: Data, name: String = "array") throws -> Array {
        guard let h = try header(data, name: name) else {
            throw TensorError(.corruptData, data.count < 10 ? "\(name): not a .npy file (bad magic)" : "\(name): truncated .npy header")
        }
        let payloadStart = data.startIndex + h.headerBytes
        let actual = data.endIndex - payloadStart
        guard actual >= h.payloadBytes else {
            throw TensorError(.corruptData, "\(name): payload is \(actual) bytes, shape \(h.shape) of \(h.dtype.rawValue) needs \(h.payloadBytes)")
        }
        return Array(shape: h.shape, dtype: h.dtype, payload: data.subdata(in: payloadStart ..< payloadStart + h.payloadBytes))
    }

    /// Decodes a `.npy` as a float tensor.
    public static func decodeTensor(_ data: Data, name: String = "array") throws -> Tensor {
        let a = try decode(data, name: name)
        return Tensor(uncheckedShape: a.shape, data: a.floats())
    }

    private static func field(_ header: String, _ key: String) -> String? {
        guard let r = header.range(of: "'\(key)': '") else { return nil }
        guard let end = header[r.upperBound...].firstIndex(of: "'") else { return nil }
        return String(header[r.upperBound..<end])
    }
}
