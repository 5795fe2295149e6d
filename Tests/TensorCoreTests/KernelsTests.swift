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
}
