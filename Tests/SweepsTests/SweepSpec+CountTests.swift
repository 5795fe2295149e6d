import Foundation
import Testing
import TestSupport
@testable import Sweeps

@Suite struct SweepSpecCountTests {
    /// A seeded random sweep: 1–2 blocks of 1–3 axes, maybe a zip group, random excludes and includes.
    static func randomSpec(seed: UInt64) -> String {
        var rng = SplitMix(seed: seed)
        let paths = ["model.depth", "model.width", "train.epochs", "train.batch_size"]
        var yaml = "version: 1\nname: r\nfixed: {dataset: {name: synthetic}, model: {arch: convactually}}\n"
        let blocks = 1 + rng.below(2)
        var used: [[String]] = []
        yaml += "grid:\n"
        for _ in 0..<blocks {
            let axes = Array(paths.shuffled(using: &rng).prefix(1 + rng.below(3)))
            used.append(axes)
            for (i, p) in axes.enumerated() {
                let values = (1...(1 + rng.below(4))).map(String.init).joined(separator: ", ")
                yaml += "\(i == 0 ? "  - " : "    ")\(p): [\(values)]\n"
            }
        }
        let zipped = rng.below(2) == 0
        if zipped { yaml += "zip: [{train.lr: [0.1, 0.2], train.momentum: [0.5, 0.9]}]\n" }
        let rules = rng.below(4)
        if rules > 0 {
            yaml += "exclude:\n"
            if zipped { yaml += "  - {train.lr: 0.2, \(used[0][0]): 1}\n" }
            for _ in 0..<rules {
                let block = used[rng.below(used.count)]
                let keys = Array(block.shuffled(using: &rng).prefix(1 + rng.below(block.count)))
                yaml += "  - {" + keys.map { "\($0): \(1 + rng.below(4))" }.joined(separator: ", ") + "}\n"
            }
        }
        if rng.below(2) == 0 { yaml += "include: [{model.depth: 9}, {model.width: 7, train.epochs: 3}]\n" }
        yaml += "seeds: [" + (0...rng.below(3)).map(String.init).joined(separator: ", ") + "]\n"
        return yaml
    }

    @Test(arguments: 0..<200)
    func countMatchesExpansion(seed: Int) throws {
        let yaml = Self.randomSpec(seed: UInt64(seed))
        let spec = try SweepSpec(yaml: yaml)
        let expanded = try spec.expand().count
        #expect(spec.trialCount == expanded, "seed \(seed):\n\(yaml)")
        #expect(try spec.validateAll() == expanded)
    }

    @Test func aGridPastTheCapIsRefusedWithoutExpanding() {
        // 100^10 = 10^20 points: more than Int.max, so the product must saturate, not trap
        let axes = ["model.width", "model.depth", "train.epochs", "train.batch_size", "train.lr", "train.momentum",
                    "train.weight_decay", "train.gamma", "train.factor", "train.min_lr"]
        let grid = axes.map { "  \($0): {linspace: [1, 100, 100]}" }.joined(separator: "\n")
        let yaml = "version: 1\nname: huge\nfixed: {dataset: {name: synthetic}, model: {arch: convactually}}\ngrid:\n\(grid)\n"
        #expect { try SweepSpec(yaml: yaml, file: "huge.yaml") } throws: {
            ($0 as? SweepError)?.message == "huge.yaml: grid: the sweep expands to more than \(Int.max) trials "
                + "(1 seed × (grid (100 × 100 × 100 × 100 × 100 × 100 × 100 × 100 × 100 × 100))), more than "
                + "runner.max_trials (1000000); shrink the grid or raise runner.max_trials (line 5)"
        }
    }

    static let twoMillion = """
        version: 1
        name: big
        fixed: {dataset: {name: synthetic}, model: {arch: convactually}}
        grid:
          model.width: {linspace: [1, 1000, 1000]}
          train.epochs: {linspace: [1, 1000, 1000]}
        seeds: [0, 1]
        """

    @Test func theCapIsSettableAndCountsSeedsExcludesAndIncludes() throws {
        #expect { try SweepSpec(yaml: Self.twoMillion, file: "big.yaml") } throws: {
            ($0 as? SweepError)?.message.contains("the sweep expands to 2000000 trials (2 seeds × (grid (1000 × 1000)))") == true
        }
        let raised = try SweepSpec(yaml: Self.twoMillion + "\nrunner: {max_trials: 2000000}")
        #expect(raised.trialCount == 2_000_000 && raised.runner.maxTrials == 2_000_000)
        // excluding one width (1000 points per seed) brings it to exactly 2 × 999,000 + 2 × 1000 includes: the cap
        let trimmed = Self.twoMillion.replacingOccurrences(of: "seeds: [0, 1]", with: """
            exclude: [{model.width: 1}]
            include: [\(Array(repeating: "{model.depth: 2}", count: 1000).joined(separator: ", "))]
            seeds: [0, 1]
            runner: {max_trials: 2000000}
            """)
        #expect(try SweepSpec(yaml: trimmed).trialCount == 2_000_000)
        let over = trimmed.replacingOccurrences(of: "max_trials: 2000000", with: "max_trials: 1999999")
        #expect(throws: SweepError.self) { try SweepSpec(yaml: over) }
        #expect { try SweepSpec(yaml: Self.twoMillion + "\nrunner: {max_trials: 0}", file: "b.yaml") } throws: {
            ($0 as? SweepError)?.message.contains("runner.max_trials: expected an integer ≥ 1, got 0") == true
        }
    }

    @Test(arguments: ["1e10", "1e300", "10000000000"])
    func aHugeGeneratorCountIsRefusedBeforeAnyValueIsMade(count: String) {
        let yaml = baseYAML.replacingOccurrences(of: "[1.0e-4, 1.0e-2]", with: "{linspace: [0, 1, \(count)]}")
        #expect { try SweepSpec(yaml: yaml, file: "g.yaml") } throws: {
            let m = ($0 as? SweepError)?.message ?? ""
            return m.hasPrefix("g.yaml: grid.train.weight_decay: linspace count ") && m.contains("is more than 1000000 (the most one axis may hold) (line 10)")
        }
    }

    @Test func aGeneratorPastAlowerCapNamesTheCap() {
        let yaml = baseYAML.replacingOccurrences(of: "[1.0e-4, 1.0e-2]", with: "{logspace: [-5, -1, 50]}") + "\nrunner: {max_trials: 40}"
        #expect { try SweepSpec(yaml: yaml, file: "g.yaml") } throws: {
            ($0 as? SweepError)?.message == "g.yaml: grid.train.weight_decay: logspace count 50 is more than 40 (runner.max_trials is 40) (line 10)"
        }
    }

    @Test func nonFiniteGeneratorBoundsAreRefused() {
        let yaml = baseYAML.replacingOccurrences(of: "[1.0e-4, 1.0e-2]", with: "{linspace: [0, .inf, 3]}")
        #expect { try SweepSpec(yaml: yaml, file: "g.yaml") } throws: {
            ($0 as? SweepError)?.message.contains("grid.train.weight_decay: expected linspace: [start, stop, count] with finite start and stop") == true
        }
    }
}

