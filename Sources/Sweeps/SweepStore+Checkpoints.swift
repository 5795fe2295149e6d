import Foundation
import Trials

/// Trial checkpoints (`runner.save_model`): `trials/<id>/model.safetensors` beside the store, written by
/// `complete` before the transaction that stores the result commits, and read by `fsweep probe results/<name>`.
extension SweepStore {
    /// File name of a trial's checkpoint inside `trials/<id>/`.
    public static let checkpointName = "model.safetensors"

    /// Where the checkpoint of `trialID` lives (whether or not it exists).
    public func checkpointURL(trialID: String) -> URL {
        directory.appendingPathComponent("trials").appendingPathComponent(trialID).appendingPathComponent(Self.checkpointName)
    }

    /// Whether `trialID` has a stored checkpoint.
    public func hasCheckpoint(trialID: String) -> Bool {
        FileManager.default.fileExists(atPath: checkpointURL(trialID: trialID).path)
    }

    /// Writes a trial's weights durably (temporary file, fsync, rename, directory fsync); throws `.io`.
    func writeCheckpoint(trialID: String, arrays: [NamedArray], metadata: [String: String]) throws {
        let url = checkpointURL(trialID: trialID)
        do { try DurableFile.write(SafetensorsFile.encode(arrays, metadata: metadata), to: url) } catch {
            throw SweepError(.io, "\(url.path): cannot write the checkpoint: \(FileErrorText.reason(error))")
        }
    }

    /// Opens an existing store for writing under `lock` without recording a spec (adding probe outputs to
    /// a finished sweep). Throws `.notFound` when the directory holds no store.
    public static func openExisting(in lock: DirectoryLock) throws -> SweepStore {
        let url = lock.directory.appendingPathComponent(databaseName)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw SweepError(.notFound, "\(url.path) does not exist; run the sweep first (fsweep run sweeps/<name>.yaml)")
        }
        return SweepStore(directory: lock.directory, db: try openDatabase(url, readOnly: false), added: 0, lock: lock)
    }
}
