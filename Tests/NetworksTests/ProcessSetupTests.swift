import Foundation
import Synchronization
import Testing
import TensorCore
@testable import Networks

/// What building a model sets up for the whole process.
@Suite struct ProcessSetupTests {
    @Test("parallel loops (on oneDNN's OpenMP team when present) visit every index once, in contiguous chunks")
    func chunksCoverEveryIndexOnce() throws {
        ProcessSetup.once()  // installs the team
        for threads in [1, 2, 3] {
            for n in [0, 1, 2, 7, 100] {
                let visits = UnsafeMutablePointer<Int32>.allocate(capacity: max(n, 1))
                defer { visits.deallocate() }
                visits.initialize(repeating: 0, count: max(n, 1))
                let chunks = Mutex(0)
                Parallel.forChunks(n, threads: threads) { range in
                    chunks.withLock { $0 += 1 }
                    for i in range { visits[i] += 1 }  // chunks are disjoint
                }
                #expect((0..<n).allSatisfy { visits[$0] == 1 }, "threads \(threads), n \(n)")
                #expect(chunks.withLock { $0 } == min(threads, n), "threads \(threads), n \(n)")
            }
        }
    }
}
