import Foundation
import Testing
@testable import Sweeps
import Trials

@Suite struct ExpansionTests {
    @Test func cartesianCountAndSeedOrder() throws {
        let trials = try SweepSpec(yaml: baseYAML).expand()
        #expect(trials.count == 3 * 2 * 2)
        // every seed-0 trial comes before any seed-1 trial
        let seeds = trials.map { $0.axes["seed"]!.doubleValue! }
        #expect(seeds == Array(repeating: 0, count: 6) + Array(repeating: 1, count: 6))
        // every (depth, wd) combination appears once per seed
        let cells = Set(trials.map { "\($0.axes["model.depth"]!.display)/\($0.axes["train.weight_decay"]!.display)/\($0.axes["seed"]!.display)" })
        #expect(cells.count == 12)
        #expect(cells.contains("4/0.01/1"))
        #expect(Set(trials.map(\.id)).count == 12)
        let c = try trials[0].config()
        #expect(c.model.depth == 1 && c.train.weightDecay == 1e-4 && c.seed == 0 && c.model.width == 16)
        #expect(c.probes == [ProbeRequest(name: "sensitivity")])
    }

    @Test func includeExcludeZip() throws {
        let yaml = baseYAML + """

        exclude:
          - {model.depth: 1, train.weight_decay: 0.01}
          - {model.depth: 4}
        include:
          - {model.depth: 16, train.lr: 0.5}
        zip:
          - {model.width: [8, 32], train.batch_size: [64, 256]}
        """
        let trials = try SweepSpec(yaml: yaml).expand()
        // (3 depths × 2 wd − 1 − 2) × 2 zip steps + 1 include, × 2 seeds
        #expect(trials.count == ((6 - 3) * 2 + 1) * 2)
        let configs = try trials.map { try $0.config() }
        #expect(!configs.contains { $0.model.depth == 4 })
        #expect(!configs.contains { $0.model.depth == 1 && $0.train.weightDecay == 0.01 })
        // zip: widths and batch sizes advance together
        for c in configs where c.model.depth != 16 {
            #expect((c.model.width == 8 && c.train.batchSize == 64) || (c.model.width == 32 && c.train.batchSize == 256))
        }
        let inc = configs.filter { $0.model.depth == 16 }
        #expect(inc.count == 2 && inc.allSatisfy { $0.train.lr == 0.5 && $0.model.width == 16 })
    }

    @Test func idIsStableAcrossKeyOrderAndNumberSpelling() throws {
        let a = try SweepSpec(yaml: baseYAML).expand().map(\.id)
        let reordered = baseYAML
            .replacingOccurrences(of: "model: {arch: convactually, width: 16}", with: "model: {width: 16.0, arch: convactually}")
            .replacingOccurrences(of: "[1.0e-4, 1.0e-2]", with: "[0.0001, 0.01]")
        let b = try SweepSpec(yaml: reordered).expand().map(\.id)
        #expect(a == b)
        // the id is the first 16 hex digits of SHA-256 of the canonical JSON, and the typed config agrees
        let t = try SweepSpec(yaml: baseYAML).expand()[0]
        #expect(t.id == String(SHA256.hex(Array(t.configJSON.utf8)).prefix(16)))
        #expect(try t.config().trialID() == t.id)
        #expect(try t.config().canonicalJSON() == t.configJSON)
        // pinned: a change here changes every stored trial id
        #expect(t.id == "dcdb8d52edc315b7")  // = hashlib.sha256(configJSON).hexdigest()[:16] in Python
        #expect(t.configJSON == #"{"dataset":{"image_size":16,"name":"synthetic"},"model":{"arch":"convactually","depth":1,"width":16},"probes":[{"name":"sensitivity"}],"seed":0,"train":{"epochs":2,"weight_decay":0.0001}}"#)
    }

    @Test func logspaceValues() throws {
        let yaml = baseYAML.replacingOccurrences(of: "[1.0e-4, 1.0e-2]", with: "{logspace: [-5, -1, 4]}")
        let wds = try SweepSpec(yaml: yaml).expand().compactMap { try $0.config().train.weightDecay }
        let expected = (0..<4).map { pow(10, -5 + 4 * Double($0) / 3) }
        for w in Set(wds) { #expect(expected.contains { abs($0 - w) / $0 < 1e-10 }) }
        #expect(Set(wds).count == 4)
    }

    struct Stop: Error {}

    @Test func expansionIsLazy() throws {
        // 10^8 points: materializing them would exhaust memory; visiting the first 1000 must be instant
        let yaml = """
        version: 1
        name: huge
        fixed: {dataset: {name: synthetic}, model: {arch: convactually}}
        grid:
          model.width: {linspace: [1, 100, 100]}
          train.epochs: {linspace: [1, 100, 100]}
          model.depth: {linspace: [1, 100, 100]}
          train.batch_size: {linspace: [1, 100, 100]}
        runner: {max_trials: 100000000}
        """
        let spec = try SweepSpec(yaml: yaml)
        #expect(spec.trialCount == 100_000_000)
        var seen: [ExpandedTrial] = []
        do {
            try spec.forEachTrial { t in
                seen.append(t)
                if seen.count == 1000 { throw Stop() }
            }
        } catch is Stop {}
        #expect(seen.count == 1000)
        // last axis fastest: the first 100 points walk batch_size 1…100
        #expect(try seen.prefix(100).map { try $0.config().train.batchSize ?? 0 } == Array(1...100))
        #expect(try seen[100].config().train.epochs == 1 && seen[100].config().model.depth == 2)
        #expect(seen.map(\.ordinal) == Array(0..<1000))
    }

    @Test func progressIsReportedAsTrialsAreVisited() throws {
        var reports: [[Int]] = []
        var visited = 0
        try SweepSpec(yaml: baseYAML).forEachTrial(every: 5, progress: { reports.append([$0, $1]) }) { _ in visited += 1 }
        #expect(visited == 12 && reports == [[5, 12], [10, 12], [12, 12]])
    }
}
