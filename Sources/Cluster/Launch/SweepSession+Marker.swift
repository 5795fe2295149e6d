import Foundation
import Logging
import Sweeps
import Trials

extension SweepSession {
    /// Removes a finished marker left by an earlier run of the sweep (a resumed sweep is not finished).
    static func clearMarker(_ path: String?) throws {
        guard let path, FileManager.default.fileExists(atPath: path) else { return }
        do { try FileManager.default.removeItem(atPath: path) }
        catch { throw ClusterError(code: "marker", message: "cannot remove the finished marker \(path)", cause: FileErrorText.reason(error)) }
    }

    /// Writes the finished marker when nothing is left to run (every trial done or failed); a coordinator
    /// stopped early leaves no marker, so its workers wait for it to come back.
    func markFinishedIfDone(_ path: String?, logger: Logger) throws {
        guard let path else { return }
        let c = try store.counts()
        guard c.pending + c.leased == 0 else { return }
        let text = "finished \(ISO8601DateFormatter().string(from: Date())): \(c.done) done, \(c.failed) failed\n"
        do { try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic) }
        catch { throw ClusterError(code: "marker", message: "cannot write the finished marker \(path)", cause: FileErrorText.reason(error)) }
        logger.notice("sweep finished; wrote \(path) so late workers exit at once")
    }
}
