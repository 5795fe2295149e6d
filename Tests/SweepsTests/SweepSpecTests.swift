import Testing
@testable import Sweeps
import Trials

let baseYAML = """
version: 1
name: t
fixed:
  dataset: {name: synthetic, image_size: 16}
  model: {arch: convactually, width: 16}
  train: {epochs: 2}
  probes: [sensitivity]
grid:
  model.depth: [1, 2, 4]
  train.weight_decay: [1.0e-4, 1.0e-2]
seeds: [0, 1]
"""

@Suite struct SweepSpecTests {
    @Test func parsesBase() throws {
        let spec = try SweepSpec(yaml: baseYAML, file: "t.yaml")
        #expect(spec.name == "t")
        #expect(spec.seeds == [0, 1])
        #expect(spec.blocks.count == 1 && spec.blocks[0].map(\.paths) == [["model.depth"], ["train.weight_decay"]])
        #expect(spec.runner.maxAttempts == 3)
    }

    static let malformed: [(String, String)] = [
        // (yaml, substring the message must contain)
        (baseYAML.replacingOccurrences(of: "version: 1", with: "version: 2"), "version: unsupported version 2"),
        (baseYAML.replacingOccurrences(of: "seeds:", with: "sedes:"), "sedes: unknown key"),
        (baseYAML.replacingOccurrences(of: "width: 16", with: "widht: 16"), "fixed.model.widht: unknown key"),
        (baseYAML.replacingOccurrences(of: "arch: convactually", with: "arch: resnet"), "fixed.model.arch: expected one of convactually"),
        (baseYAML.replacingOccurrences(of: "[sensitivity]", with: "[sensitivty]"), "fixed.probes[0]: expected one of sensitivity"),
        (baseYAML.replacingOccurrences(of: "name: synthetic", with: "name: imagenet"), "fixed.dataset.name: expected one of synthetic, cifar10, npz"),
        (baseYAML.replacingOccurrences(of: "epochs: 2", with: "epochs: two"), "fixed.train.epochs: expected an integer, got a string"),
        (baseYAML.replacingOccurrences(of: "epochs: 2", with: "epochs: 2.5"), "fixed.train.epochs: expected an integer"),
        (baseYAML.replacingOccurrences(of: "model.depth: [1, 2, 4]", with: "model.deep: [1, 2, 4]"), "grid.model.deep: no such setting"),
        (baseYAML.replacingOccurrences(of: "model.depth: [1, 2, 4]", with: "model.depth: []"), "grid.model.depth: expected a non-empty list"),
        (baseYAML.replacingOccurrences(of: "[1.0e-4, 1.0e-2]", with: "[1.0e-4, -1]"), "grid.train.weight_decay[1]: expected a number ≥ 0"),
        (baseYAML.replacingOccurrences(of: "seeds: [0, 1]", with: "seeds: [0, 0]"), "seeds[1]: seed 0 is listed twice"),
        (baseYAML.replacingOccurrences(of: "name: t\n", with: ""), "name: missing required key name"),
        (baseYAML.replacingOccurrences(of: "  model.depth: [1, 2, 4]\n  train.weight_decay: [1.0e-4, 1.0e-2]", with: "  {}"), "grid"),
        (baseYAML.replacingOccurrences(of: "name: synthetic", with: "name: cifar10"), "dataset.data_dir: dataset cifar10 needs data_dir"),
        (baseYAML.replacingOccurrences(of: "image_size: 16", with: "image_size: 100000"), "fixed.dataset.image_size: expected an integer 4…1024, got 100000 (line 4)"),
        (baseYAML.replacingOccurrences(of: "model.depth: [1, 2, 4]", with: "dataset.image_size: [8, 2048]"), "grid.dataset.image_size[1]: expected an integer 4…1024, got 2048"),
        (baseYAML + "\nrunner: {max_trials: 11}", "the sweep expands to 12 trials (2 seeds × (grid (3 × 2))), more than runner.max_trials (11)"),
        (baseYAML + "\nrunner: {time_limit: soon}", "runner.time_limit: expected a duration"),
        (baseYAML + "\nrunner: {stall_timeout: -3}", "runner.stall_timeout: expected a duration"),
        (baseYAML + "\nrunner: {trial_timeout: 2h}", "runner.trial_timeout: renamed: use runner.time_limit"),
        (baseYAML + "\nzip: [{model.width: [1, 2], train.lr: [0.1]}]", "zip lists must have equal lengths"),
        (baseYAML.replacingOccurrences(of: "model.depth: [1, 2, 4]", with: "seed: [1, 2]"), "use the top-level seeds list"),
        ("[1, 2]", "top level: expected a map"),
        ("version: 1\nname: t\nfixed: {model: {arch: vgg11}}\ngrid: {model.depth: [1]}", "fixed.dataset: missing required section dataset"),
    ]

    @Test(arguments: 0..<malformed.count)
    func rejectsMalformed(_ i: Int) {
        let (yaml, expected) = Self.malformed[i]
        do {
            let spec = try SweepSpec(yaml: yaml, file: "bad.yaml")
            try spec.validateAll()
            Issue.record("case \(i) was accepted; expected an error containing \(expected)")
        } catch let e as SweepError {
            #expect(e.code == .invalidSpec)
            #expect(e.message.hasPrefix("bad.yaml: "), "\(e.message)")
            #expect(e.message.contains(expected), "case \(i): \(e.message)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func errorsCarryLineNumbers() {
        let yaml = baseYAML.replacingOccurrences(of: "width: 16", with: "widht: 16")
        #expect(throws: SweepError.self) { try SweepSpec(yaml: yaml, file: "bad.yaml") }
        do { _ = try SweepSpec(yaml: yaml, file: "bad.yaml") } catch let e as SweepError {
            #expect(e.message.contains("(line 5)"), "\(e.message)")
        } catch { Issue.record("\(error)") }
    }

    @Test func shippedSweepsValidate() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let quick = try SweepSpec.load(path: root.appendingPathComponent("sweeps/quickstart.yaml").path)
        #expect(try quick.validateAll() == 12)  // depth 3 × filter 2 × seeds 2
        let godfrey = try SweepSpec.load(path: root.appendingPathComponent("sweeps/godfrey-cifar10.yaml").path)
        // (4×4 + 4×10 + 4) cells × 2 filters × 5 seeds
        #expect(try godfrey.validateAll() == (16 + 40 + 4) * 2 * 5)
        let probes = try SweepSpec.load(path: root.appendingPathComponent("sweeps/probes-all.yaml").path)
        let t = try probes.expand()
        let names = try t[0].config().probes.map(\.name)
        #expect(Set(names) == ["sensitivity", "fourier_heatmap", "lfc_hfc", "diffeo_stability", "frequency_principle"])
    }
}

import Foundation

extension SweepSpecTests {
    @Test func numbersWithoutADotAreNumbers() throws {
        let yaml = baseYAML.replacingOccurrences(of: "[1.0e-4, 1.0e-2]", with: "[1e-4, 1E-2, .5]")
        let wds = try SweepSpec(yaml: yaml).expand().compactMap { try $0.config().train.weightDecay }
        #expect(Set(wds) == [1e-4, 1e-2, 0.5])
    }

    @Test func quotedNumbersStayStrings() {
        let yaml = baseYAML.replacingOccurrences(of: "epochs: 2", with: "epochs: \"2\"")
        #expect { try SweepSpec(yaml: yaml, file: "q.yaml") } throws: { ($0 as? SweepError)?.message.contains("fixed.train.epochs: expected an integer, got a string") == true }
    }
}

/// The settings schema is written by hand (for messages that name the key); it must list exactly the keys of
/// the trial-config types, so a setting added to `Trials` without a schema entry (or the reverse) fails here.
@Suite struct SettingsSchemaTests {
    @Test func everySectionListsExactlyTheConfigTypesKeys() {
        #expect(Set(SettingsSchema.sections["dataset"]?.keys.map { $0 } ?? []) == Set(SettingKeys.dataset))
        #expect(Set(SettingsSchema.sections["model"]?.keys.map { $0 } ?? []) == Set(SettingKeys.model))
        #expect(Set(SettingsSchema.sections["train"]?.keys.map { $0 } ?? []) == Set(SettingKeys.train))
        #expect(Set(SettingsSchema.probeFields.keys) == Set(SettingKeys.probe))
        #expect(Set(SettingsSchema.sections.keys) == ["dataset", "model", "train"])
    }
}
