import Foundation
import Testing
@testable import Sweeps
import Trials

private func spec(_ overrides: [String], yaml: String = baseYAML) throws -> SweepSpec {
    let text = try SweepSpec.applying(try overrides.map(SweepOverride.init), to: yaml, file: "t.yaml")
    return try SweepSpec(yaml: text, file: "t.yaml")
}

@Suite struct SweepSpecOverridesTests {
    @Test("a scalar sets a fixed value; a list makes a grid axis; ~ removes an axis")
    func setsAxesAndRemovals() throws {
        let base = try SweepSpec(yaml: baseYAML)
        #expect(base.trialCount == 12)
        let one = try spec(["train.epochs=1"])
        #expect(one.fixed.objectValue?["train"]?.objectValue?["epochs"] == .number(1))
        #expect(one.trialCount == 12)
        let grid = try spec(["model.width=[8, 16]"])
        #expect(grid.trialCount == 24, "a list value is a new axis: 3 depths × 2 decays × 2 widths × 2 seeds")
        let removed = try spec(["~grid.train.weight_decay"])
        #expect(removed.trialCount == 6)
        let pinned = try spec(["model.depth=2"])
        #expect(pinned.trialCount == 4, "a scalar over an axis replaces the axis: one depth")
        #expect(pinned.fixed.objectValue?["model"]?.objectValue?["depth"] == .number(2))
        #expect(try spec(["seeds=[0]", "runner.max_attempts=5"]).trialCount == 6)
        #expect(try spec(["runner.max_attempts=5"]).runner.maxAttempts == 5)
        #expect(try spec(["fixed.probes=[sensitivity, lfc_hfc]"]).trialCount == 12)
    }

    @Test("overrides are validated like the file, and the error names the override",
          arguments: [("train.epochs=abc", "override `train.epochs=abc`: fixed.train.epochs"),
                      ("model.dpth=[1,2]", "override `model.dpth=[1,2]`"),
                      ("~grid.nope", "the grid has no axis nope"),
                      ("epochs", "expected key=value"),
                      ("train.epochs=", "no value after '='"),
                      ("~train.epochs=1", "takes no value")])
    func errorsNameTheOverride(_ c: (String, String)) throws {
        let file = tempDir().appendingPathComponent("s.yaml").path
        try baseYAML.write(toFile: file, atomically: true, encoding: .utf8)
        #expect { try SweepSpec.load(path: file, overrides: [c.0]) } throws: { error in
            guard let e = error as? SweepError else { return false }
            return e.code == .invalidSpec && e.message.contains(c.1) && !e.message.contains("(line ")
        }
    }

    @Test("the effective text records the overrides and is the same for the same overrides (a resume is recognized)")
    func effectiveTextIsStable() throws {
        let dir = tempDir()
        let file = dir.appendingPathComponent("s.yaml").path
        try baseYAML.write(toFile: file, atomically: true, encoding: .utf8)
        let a = try SweepSpec.load(path: file, overrides: ["train.epochs=1", "~grid.train.weight_decay"])
        let b = try SweepSpec.load(path: file, overrides: ["train.epochs=1", "~grid.train.weight_decay"])
        #expect(a.sourceText == b.sourceText)
        #expect(a.sourceText.hasPrefix("# s.yaml with command-line overrides: train.epochs=1 ~grid.train.weight_decay\n"))
        #expect(try SweepSpec.load(path: file, overrides: []).sourceText == baseYAML)
        let store = try SweepStore.create(in: try DirectoryLock(directory: dir.appendingPathComponent("r")), spec: a)
        #expect(store.addedTrials == 6)
        #expect(try store.add(spec: b) == 0)
        let saved = try String(contentsOf: dir.appendingPathComponent("r/spec.yaml"), encoding: .utf8)
        #expect(saved == a.sourceText)
    }
}
