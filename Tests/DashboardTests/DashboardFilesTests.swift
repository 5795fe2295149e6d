import Dashboard
import Foundation
import Testing

@Suite struct DashboardFilesTests {
    @Test func onlyPlainPathsBelowTheFolderResolve() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("fsweep-dash-files-\(UUID().uuidString)")
        let base = root.appendingPathComponent("aggregate")
        try FileManager.default.createDirectory(at: base.appendingPathComponent("sub"), withIntermediateDirectories: true)
        try Data("x".utf8).write(to: base.appendingPathComponent("sub/f.svg"))
        try Data("s".utf8).write(to: root.appendingPathComponent("secret"))
        try FileManager.default.createSymbolicLink(at: base.appendingPathComponent("out"), withDestinationURL: root)
        #expect(try DashboardFiles.resolve("sub/f.svg", under: base).lastPathComponent == "f.svg")
        for bad in ["../secret", "sub/../../secret", "/etc/passwd", "", "sub/", ".x", "out/secret", "sub\\..\\..\\secret", "a\0b"] {
            #expect(throws: DashboardError.self, "\(bad)") { try DashboardFiles.resolve(bad, under: base) }
        }
        #expect(throws: DashboardError.self) { try DashboardFiles.resolve("sub", under: base) }
        #expect(DashboardFiles.list(under: base) == ["sub/f.svg"])
    }
}
