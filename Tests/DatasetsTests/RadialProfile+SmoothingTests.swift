import Foundation
import Testing
@testable import Datasets

@Test func smoothedLogIsNormalizedValidMovingAverage() throws {
    // values 1…5 (sum 15), 3 taps: means of (1,2,3), (2,3,4), (3,4,5) over 15 = 2/15, 3/15, 4/15.
    let p = RadialProfile(radii: [0, 1, 2, 3, 4], values: [1, 2, 3, 4, 5], counts: [1, 1, 1, 1, 1])
    let s = try p.smoothedLog(halfWidth: 1)
    #expect(s.radii == [1, 2, 3])
    for (v, want) in zip(s.values, [2.0 / 15, 3.0 / 15, 4.0 / 15]) { #expect(abs(v - log(want)) < 1e-12) }
    #expect(throws: DatasetError.self) { try p.smoothedLog(halfWidth: 3) }
    #expect(RadialProfile.figureHalfWidth(imageSize: 32) == 3 && RadialProfile.figureHalfWidth(imageSize: 64) == 2)
}
