import Foundation
import Sweeps
import Testing
@testable import Runner

@Suite struct SweepValidationTests {
    static func spec(imageSizes: String, radii: String) -> String {
        """
        version: 1
        name: v
        fixed:
          dataset: {name: synthetic}
          model: {arch: convactually, width: 4}
          train: {epochs: 1}
          probes: [sensitivity, fourier_heatmap, {name: lfc_hfc, params: {radii: \(radii)}}]
        grid:
          dataset.image_size: \(imageSizes)
        seeds: [0]
        """
    }

    static func check(_ yaml: String) throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sweep-validation-\(UUID().uuidString).yaml")
        try yaml.write(to: url, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: url) }
        try SweepValidation.checkProbes(specPath: url.path)
    }

    /// Radii that fit 32-px images but not the 16-px point of the grid are refused before the sweep starts,
    /// naming the key; radii that fit every image size pass.
    @Test func radiiPastNyquistFailBeforeTheSweepStarts() throws {
        do {
            try Self.check(Self.spec(imageSizes: "[32, 16]", radii: "[4, 8, 12]"))
            Issue.record("radius 12 on 16-px images must be refused")
        } catch let e as SweepError {
            #expect(e.message.hasSuffix("probes[2].params.radii: 12 is past the Nyquist radius 8 of 16-px images (use radii ≤ 8, or leave radii out for 2, 4, 6, 8)"),
                    "\(e.message)")
        }
        try Self.check(Self.spec(imageSizes: "[32, 16]", radii: "[2, 4, 8]"))
    }
}
