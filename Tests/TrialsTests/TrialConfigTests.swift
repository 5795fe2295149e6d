import Testing
@testable import Trials

@Suite struct TrialConfigDecodingTests {
    @Test func decodingErrorsNameTheKeyPath() {
        func message(_ json: String) -> String {
            do { _ = try TrialConfig.decode(json: json); return "decoded" } catch let e as TrialConfigError { return e.message } catch { return "\(error)" }
        }
        let bad = #"{"dataset":{"name":"synthetic"},"model":{"arch":"resnet"},"train":{},"probes":[],"seed":0}"#
        #expect(message(bad).hasPrefix("trial config: model.arch:") && message(bad).contains("resnet"))
        let missing = #"{"dataset":{"name":"synthetic"},"train":{},"probes":[],"seed":0}"#
        #expect(message(missing) == "trial config: model: required key is missing")
        let wrongType = #"{"dataset":{"name":"synthetic"},"model":{"arch":"myrtle","width":"wide"},"train":{},"probes":[],"seed":0}"#
        #expect(message(wrongType).hasPrefix("trial config: model.width: expected"))
        #expect(message("{").hasPrefix("trial config"))
    }
}
