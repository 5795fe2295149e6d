import Foundation
import Testing
@testable import Sweeps

@Suite struct SweepSpecCellsTests {
    static let mixed = """
        version: 1
        name: c
        fixed: {model: {arch: convactually}}
        grid:
          dataset.name: [synthetic, cifar10]
          model.width: {linspace: [1, 500, 500]}
          train.epochs: {linspace: [1, 400, 400]}
        """

    @Test func aCrossFieldErrorIsFoundWithoutExpandingAndNamesARealPoint() {
        // cifar10 without data_dir: 200,000 invalid trials, found from two cells
        #expect { try SweepSpec(yaml: Self.mixed, file: "c.yaml").validateAll() } throws: {
            ($0 as? SweepError)?.message == "c.yaml: fixed.dataset.data_dir: dataset cifar10 needs data_dir (the directory of "
                + "data_batch_1.bin … test_batch.bin) at point {dataset.name=cifar10, model.width=1, train.epochs=1} (line 5)"
        }
    }

    @Test func excludedPointsAreNotValidated() throws {
        // every cifar10 point excluded: the sweep is valid, and its trial count says so
        let spec = try SweepSpec(yaml: Self.mixed + "\nexclude: [{dataset.name: cifar10}]")
        #expect(try spec.validateAll() == 200_000)
        // excluding all but one cifar10 point keeps the error, at that point
        let most = Self.mixed + "\nexclude: [{dataset.name: cifar10, model.width: 1}]"
        #expect { try SweepSpec(yaml: most, file: "c.yaml").validateAll() } throws: {
            ($0 as? SweepError)?.message.contains("at point {dataset.name=cifar10, model.width=2, train.epochs=1}") == true
        }
    }

    @Test func cellsAreTheDistinctCombinationsOfTheAskedPaths() throws {
        let spec = try SweepSpec(yaml: baseYAML + "\ninclude: [{model.depth: 16}]\nexclude: [{model.depth: 4, train.weight_decay: 0.01}]")
        // depth × weight decay = 6 points, one excluded; plus the include
        let cells = try spec.cells(varying: ["model.depth"])
        #expect(cells.map { $0.trial.axes["model.depth"]?.display } == ["1", "2", "4", "16"])
        #expect(cells[0].keyPath(of: "model.depth") == "grid.model.depth")
        #expect(cells[3].keyPath(of: "model.depth") == "include[0].model.depth")
        #expect(cells[0].keyPath(of: "dataset.image_size") == "fixed.dataset.image_size")
        // the representative of depth 4 is its first non-excluded point
        #expect(cells[2].trial.axes["train.weight_decay"]?.display == "0.0001")
        let all = try spec.cells(varying: ["model.depth", "train.weight_decay"])
        #expect(all.count == 5 + 1)
        let ids = Set(try spec.expand().filter { $0.seedRank == 0 }.map(\.id))
        #expect(Set(all.map(\.trial.id)) == ids)
    }
}
