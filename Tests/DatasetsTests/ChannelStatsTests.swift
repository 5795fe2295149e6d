import Foundation
import Testing
import TensorCore
@testable import Datasets
import TestSupport

@Test func statsMatchHandComputation() throws {
    // Two images, two channels of 2 pixels: channel 0 = {1, 3, 5, 7}, channel 1 = {2, 2, 2, 2}.
    let x = try Tensor(shape: [2, 2, 1, 2], data: [1, 3, 2, 2, 5, 7, 2, 2])
    let s = ChannelStats.compute(x)
    #expect(s.mean == [4, 2])
    expectClose(s.std[0], Float(5.0.squareRoot()), .absolute(1e-6))  // var = (9 + 1 + 1 + 9) / 4
    #expect(s.std[1] == ChannelStats.minimumStd)
    let n = try s.normalize(x)
    expectClose(n[0, 0, 0, 0], Float(-3 / 5.0.squareRoot()), .absolute(1e-6))
    #expect(n[1, 1, 0, 1] == 0)
}

@Test func statsAreCodableForStorageWithTheModel() throws {
    let s = ChannelStats(mean: [0.5, 0.25], std: [0.1, 0.2])
    let back = try JSONDecoder().decode(ChannelStats.self, from: JSONEncoder().encode(s))
    #expect(back == s)
    #expect(throws: DatasetError.self) { try s.normalize(Tensor(zeros: [1, 3, 2, 2])) }
}
