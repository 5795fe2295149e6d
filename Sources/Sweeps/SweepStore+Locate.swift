import Foundation

extension SweepStore {
    /// The results directory a `status`/`aggregate` target names: a results directory as given, or a sweep file
    /// (`sweeps/x.yaml`) whose `name` is looked up under `resultsRoot` (`results/<name>`), so users can pass
    /// whichever they have at hand. A sweep file whose sweep never ran is an error that says how to run it.
    public static func locate(target: String, resultsRoot: String = "results") throws -> URL {
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: target, isDirectory: &isDirectory)
        let looksLikeSpec = target.hasSuffix(".yaml") || target.hasSuffix(".yml")
        guard looksLikeSpec || (exists && !isDirectory.boolValue) else { return URL(fileURLWithPath: target) }
        let spec = try SweepSpec.load(path: target)
        let dir = URL(fileURLWithPath: resultsRoot).appendingPathComponent(spec.name)
        guard FileManager.default.fileExists(atPath: dir.appendingPathComponent(databaseName).path) else {
            let shown = (resultsRoot as NSString).appendingPathComponent(spec.name)
            throw SweepError(.notFound, "sweep \(spec.name) (from \(target)) has no results in \(shown) yet; "
                + "start it with `fsweep run \(target)` (or pass --results ROOT if it ran elsewhere)")
        }
        return dir
    }
}
