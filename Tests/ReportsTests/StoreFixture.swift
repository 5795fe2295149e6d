import Foundation
import Sweeps
import Trials

/// A fresh directory under the temporary directory, named for the calling test.
func tempDir(_ label: String = #function) -> URL {
    let safe = label.filter { $0.isLetter || $0.isNumber }
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("fsweep-reports-\(safe)-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// A writable store for `yaml` in `dir` (its coordinator lock held for the store's lifetime).
func makeStore(_ yaml: String, in dir: URL) throws -> SweepStore {
    try SweepStore.create(in: try DirectoryLock(directory: dir), spec: try SweepSpec(yaml: yaml))
}

let w1 = LeaseOwner(worker: "w1", identity: "zmq:w1")
