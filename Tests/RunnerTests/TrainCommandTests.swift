import Foundation
import Testing
@testable import Runner
import Sweeps
import Trials

@Suite struct TrainCommandTests {
    private func configFile(_ json: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fsweep-cfg-\(UUID().uuidString).json").path
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
    private let cfg = #"{"dataset":{"name":"synthetic","image_size":8},"model":{"arch":"convactually","depth":2},"train":{"epochs":5,"lr":0.1},"probes":[],"seed":3}"#

    @Test("flags beside --config override the file's values and leave the others alone")
    func flagsOverrideTheConfig() throws {
        let path = try configFile(cfg)
        let plain = try TrialConfigFile.load(path)
        #expect(plain.train.epochs == 5 && plain.model.depth == 2)
        let over = try TrialConfigFile.load(path, overrides: ["train.epochs": .number(1), "model.depth": .number(4)])
        #expect(over.train.epochs == 1 && over.model.depth == 4)
        #expect(over.train.lr == 0.1 && over.seed == 3 && over.dataset.imageSize == 8)
    }

    @Test("an override is validated like the file")
    func overridesAreValidated() throws {
        let path = try configFile(cfg)
        #expect { try TrialConfigFile.load(path, overrides: ["train.epochs": .number(0)]) } throws: { error in
            "\(error)".contains("epochs")
        }
        #expect { try TrialConfigFile.load(path + ".missing") } throws: { "\($0)".contains("cannot read trial config") }
    }
}
