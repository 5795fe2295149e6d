import Testing
@testable import TensorCore

@Suite struct KernelsTests {
    @Test("the tiled transpose moves every entry where the index formula says (tile-sized and ragged shapes)",
          arguments: [(1, 1), (16, 16), (17, 33), (1024, 64), (5, 40), (64, 3)])
    func transposeMatchesIndexFormula(_ shape: (Int, Int)) {
        let (rows, columns) = shape
        let src = (0..<(rows * columns)).map { Float($0) }
        var dst = [Float](repeating: -1, count: rows * columns)
        src.withUnsafeBufferPointer { s in
            dst.withUnsafeMutableBufferPointer { d in
                Kernels.transpose(s.baseAddress!, rows: rows, columns: columns, into: d.baseAddress!)
            }
        }
        var wrong = 0
        for i in 0..<rows { for j in 0..<columns where dst[j * rows + i] != Float(i * columns + j) { wrong += 1 } }
        #expect(wrong == 0)
    }

    @Test("strided blocks of floats and of complex pairs land where the index formula says",
          arguments: [(32, 544, false), (32, 544, true), (7, 9, true), (13, 70, false), (5, 3, true)])
    func stridedTransposeMatchesIndexFormula(_ shape: (Int, Int, Bool)) {
        let (rows, columns, complex) = shape
        let width = complex ? 2 : 1, sourceStride = columns + 3, destinationStride = rows + 5
        let src = (0..<(width * rows * sourceStride)).map { Float($0) }
        var dst = [Float](repeating: -1, count: width * columns * destinationStride)
        src.withUnsafeBufferPointer { s in
            dst.withUnsafeMutableBufferPointer { d in
                Kernels.transpose(s.baseAddress!, rows: rows, columns: columns, sourceStride: sourceStride,
                                  into: d.baseAddress!, destinationStride: destinationStride, complex: complex)
            }
        }
        var wrong = 0, untouched = 0
        for j in 0..<columns {
            for i in 0..<destinationStride {
                for e in 0..<width {
                    let got = dst[width * (j * destinationStride + i) + e]
                    if i < rows {
                        if got != src[width * (i * sourceStride + j) + e] { wrong += 1 }
                    } else if got != -1 {
                        untouched += 1  // padding between destination rows must stay as it was
                    }
                }
            }
        }
        #expect(wrong == 0)
        #expect(untouched == 0)
    }
}
