import Foundation
import TestSupport
import Testing

private let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }

/// The real-browser check (`tools/dashboard-check.sh`): a tiny sweep runs with `--dashboard`, headless
/// Chromium loads the sweep page, and the counts and a learning curve must appear.
@Suite struct DashboardBrowserTests {
    @Test(.enabled(if: chromium != nil, "needs headless Chromium (apt-get install -y chromium)"))
    func pageShowsCountsAndACurveInChromium() async throws {
        let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [package.appendingPathComponent("tools/dashboard-check.sh").path]
        var env = ProcessInfo.processInfo.environment
        env["FSWEEP_BIN"] = fsweepBinary()
        process.environment = env
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let text = try await blocking {
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return text
        }
        print(text)
        #expect(process.terminationStatus == 0, "\(text)")
        #expect(text.contains("dashboard-check: ok"))
    }
}
