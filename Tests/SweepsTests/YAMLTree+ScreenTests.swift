import Foundation
import Testing
@testable import Sweeps

/// The classic "billion laughs": nine levels of nine aliases, 9^9 ≈ 387 million scalars once expanded,
/// from a few hundred bytes. Composing it with its aliases resolved took gigabytes.
let billionLaughs: String = {
    var lines = ["version: 1", "name: lol", #"a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]"#]
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"]
    for k in 1..<names.count {
        let prev = names[k - 1]
        lines.append("\(names[k]): &\(names[k]) [" + Array(repeating: "*\(prev)", count: 9).joined(separator: ", ") + "]")
    }
    return lines.joined(separator: "\n")
}()

@Suite struct YAMLTreeScreenTests {
    func message(_ yaml: String) -> String? {
        do { _ = try SweepSpec(yaml: yaml, file: "hostile.yaml"); return nil } catch let e as SweepError {
            #expect(e.code == .invalidSpec)
            return e.message
        } catch { return "unexpected \(error)" }
    }

    @Test func billionLaughsIsRefusedAtTheFirstAnchor() {
        let m = message(billionLaughs) ?? ""
        #expect(m == "hostile.yaml: a: YAML anchors (&a) are not supported; write the value out in full (line 3)", "\(m)")
    }

    @Test func aliasesAreRefusedEvenWhenTheirAnchorIsMissing() {
        // libyaml reports the alias event before the composer would look the anchor up
        let unanchored = billionLaughs.replacingOccurrences(of: "&[a-i] ", with: "", options: .regularExpression)
        #expect(message(unanchored) == "hostile.yaml: b[0]: YAML aliases (*a) are not supported; write the value out in full (line 4)")
        // a key standing for a huge node would be hashed in full by the composer's duplicate-key check
        #expect(message("version: 1\nname: k\nfixed: {? *big : 1}") == "hostile.yaml: fixed: YAML aliases (*big) are not supported; write the value out in full (line 3)")
    }

    @Test func aSingleSmallAliasIsRefusedToo() throws {
        // before the screen, Yams resolved this alias silently and the spec loaded with width 16 twice
        let yaml = baseYAML.replacingOccurrences(of: "model: {arch: convactually, width: 16}", with: "model: {arch: convactually, width: &w 16}")
            .replacingOccurrences(of: "train: {epochs: 2}", with: "train: {epochs: *w}")
        let m = message(yaml) ?? ""
        #expect(m.hasPrefix("hostile.yaml: fixed.model.width: YAML anchors (&w) are not supported"), "\(m)")
        #expect(m.hasSuffix("(line 5)"), "\(m)")
    }

    @Test func deepNestingIsRefusedWithoutRecursing() {
        func nested(_ depth: Int) -> String {
            "version: 1\nname: deep\nfixed: " + String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        }
        let m = message(nested(40)) ?? ""
        #expect(m.hasPrefix("hostile.yaml: fixed" + String(repeating: "[0]", count: YAMLTree.maxDepth - 1) + ": nested more than 32 levels deep"), "\(m)")
        #expect(m.hasSuffix("(line 3)"), "\(m)")
        // 100,000 levels would overflow the composer's stack; libyaml's own limit (1000) may speak first
        let deep = message(nested(100_000)) ?? ""
        #expect(deep.hasPrefix("hostile.yaml: ") && deep.contains("nest"), "\(deep.prefix(300))")
    }

    @Test func ampersandsAndStarsInsideValuesAreText() throws {
        let yaml = baseYAML.replacingOccurrences(of: "name: t\n", with: "name: t\ndescription: rock &roll, data/*.npz, \"&x\", '*y'\n")
        let spec = try SweepSpec(yaml: yaml, file: "ok.yaml")
        #expect(spec.description == "rock &roll, data/*.npz, \"&x\", '*y'")
    }

    @Test func syntaxErrorsStillComeFromTheComposer() {
        let m = message("version: 1\nname: [unclosed\n") ?? ""
        #expect(m.hasPrefix("hostile.yaml: not valid YAML"), "\(m)")
    }

    @Test func anOversizedFileIsRefusedWithoutReadingItAll() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fsweep-big-\(UUID().uuidString).yaml")
        defer { try? FileManager.default.removeItem(at: url) }
        try Data(repeating: UInt8(ascii: "#"), count: SweepSpec.maxFileBytes + 1).write(to: url)
        #expect { try SweepSpec.load(path: url.path) } throws: {
            ($0 as? SweepError)?.message == "\(url.path): the sweep file is larger than 16 MB; sweep files describe grids, they do not list them"
        }
    }
}
