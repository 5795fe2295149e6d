import Foundation

/// `.build/<config>/fsweep`, found next to the test bundle (test targets that run real processes depend on
/// the executable, so it is built with them); the package's debug build directory otherwise.
public func fsweepBinary() -> String {
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0..<3 {
        let candidate = dir.appendingPathComponent("fsweep").path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        dir = dir.deletingLastPathComponent()
    }
    // This file is Tests/TestSupport/FSweepBinary.swift: three levels below the package root.
    return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".build/debug/fsweep").path
}
