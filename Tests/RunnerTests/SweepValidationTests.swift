import Datasets
import Foundation
import Sweeps
import TensorCore
import Testing
@testable import Runner

@Suite struct SweepValidationTests {
    /// A directory of `.npy` arrays: `n` uint8 images of `size`×`size`×3 per split.
    static func npyDirectory(n: Int, size: Int) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sweep-npy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for split in ["train", "test"] {
            try NPY.encode(payload: Data(count: n * size * size * 3), dtype: .uint8, shape: [n, size, size, 3])
                .write(to: dir.appendingPathComponent("x_\(split).npy"))
            try NPY.encode(payload: Data((0..<n).map { UInt8($0 % 2) }), dtype: .uint8, shape: [n]).write(to: dir.appendingPathComponent("y_\(split).npy"))
        }
        return dir
    }

    static func yaml(dataset: String, grid: String = "model.depth: [1, 2]", extra: String = "") -> String {
        """
        version: 1
        name: v
        fixed:
          dataset: \(dataset)
          model: {arch: convactually, width: 4}
          probes: [sensitivity]
        grid:
          \(grid)
        \(extra)
        """
    }

    func message(_ yaml: String) -> String? {
        do { try SweepValidation.validate(SweepSpec(yaml: yaml, file: "v.yaml")); return nil } catch let e as SweepError {
            return e.message
        } catch { return "unexpected \(error)" }
    }

    @Test func anNpzImageSizeThatDisagreesWithTheFileNamesTheKeyAndBothSizes() throws {
        let dir = try Self.npyDirectory(n: 8, size: 16)
        defer { try? FileManager.default.removeItem(at: dir) }
        let m = message(Self.yaml(dataset: "{name: npz, path: \(dir.path), image_size: 32}"))
        #expect(m == "v.yaml: fixed.dataset.image_size: image_size 32 but the images of npz \(dir.path) are 16×16; "
            + "leave image_size out to use the data's own size at point {model.depth=1} (line 4)")
        #expect(message(Self.yaml(dataset: "{name: npz, path: \(dir.path)}")) == nil)
        #expect(message(Self.yaml(dataset: "{name: npz, path: \(dir.path), image_size: 16}")) == nil)
    }

    @Test func aTrainSizePastTheFileNamesTheGridAxisAndItsLine() throws {
        let dir = try Self.npyDirectory(n: 8, size: 4)
        defer { try? FileManager.default.removeItem(at: dir) }
        let yaml = Self.yaml(dataset: "{name: npz, path: \(dir.path)}", grid: "dataset.train_size: [4, 8, 9]")
        #expect(message(yaml) == "v.yaml: grid.dataset.train_size: train_size 9 but npz \(dir.path) has 8 training images "
            + "at point {dataset.train_size=9} (line 8)")
        // excluding the impossible point makes the sweep valid: validation sees only trials that exist
        #expect(message(yaml + "\nexclude: [{dataset.train_size: 9}]") == nil)
    }

    @Test func syntheticLimitsAndProbeTyposAreCaughtPerDistinctSetting() {
        let big = Self.yaml(dataset: "{name: synthetic, image_size: 64}", grid: "dataset.train_size: [1000, 400000]")
        let m = message(big) ?? ""
        #expect(m.hasPrefix("v.yaml: grid.dataset.train_size: train_size 400000: synthetic images of 3×64×64"), "\(m)")
        let probes = Self.yaml(dataset: "{name: synthetic, image_size: 8}").replacingOccurrences(of: "[sensitivity]", with: "[{name: sensitivity, params: {smoth: false}}]")
        #expect(message(probes)?.hasPrefix("v.yaml: fixed.probes: ") == true)
    }

    @Test func dataThatIsNotOnThisMachineIsReportedAsUnchecked() throws {
        var lines: [String] = []
        let summary = try SweepValidation.validate(SweepSpec(yaml: Self.yaml(dataset: "{name: npz, path: /nonexistent/data.npz, train_size: 99}")),
                                                   report: { lines.append($0) })
        #expect(summary.unchecked == ["/nonexistent/data.npz"])
        #expect(lines == ["note: /nonexistent/data.npz is not on this machine; its sizes are checked by the workers that load it"])
    }

    @Test func aMillionTrialGridIsValidatedOncePerDistinctSetting() throws {
        // 1000 widths × 1000 epochs: two cells (the two filters), one probe list — nothing expanded
        let yaml = Self.yaml(dataset: "{name: synthetic, image_size: 8}", grid: """
            model.width: {linspace: [1, 1000, 1000]}
              train.epochs: {linspace: [1, 1000, 1000]}
            """, extra: "zip: [{dataset.filter: [none, hpf]}]\nrunner: {max_trials: 2000000}")
        let spec = try SweepSpec(yaml: yaml)
        var lines: [String] = []
        let summary = try SweepValidation.validate(spec, report: { lines.append($0) })
        #expect(summary.trials == 2_000_000 && summary.cells == 2 && summary.datasets == 2 && summary.probeLists == 1)
        #expect(lines.last?.hasPrefix("validated v: 2000000 trials in 2 distinct settings (2 datasets, 1 probe list) in ") == true, "\(lines)")
    }

    /// Radii that fit 32-px images but not the 16-px point of the grid are refused before the sweep starts,
    /// naming the key; radii that fit every image size pass.
    @Test func radiiPastNyquistFailBeforeTheSweepStarts() throws {
        func spec(radii: String) -> String {
            Self.yaml(dataset: "{name: synthetic}", grid: "dataset.image_size: [32, 16]")
                .replacingOccurrences(of: "[sensitivity]", with: "[sensitivity, {name: lfc_hfc, params: {radii: \(radii)}}]")
        }
        let m = message(spec(radii: "[4, 8, 12]")) ?? ""
        #expect(m.contains("probes[1].params.radii: 12 is past the Nyquist radius 8 of 16-px images (use radii ≤ 8, or leave radii out for 2, 4, 6, 8)"), "\(m)")
        #expect(m.contains("{dataset.image_size=16}"), "\(m)")
        #expect(message(spec(radii: "[2, 4, 8]")) == nil)
    }
}
