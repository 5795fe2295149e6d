import Foundation
import Trials

extension SweepStore {
    /// The changed `fixed` keys between the stored spec and a new one, as `fixed.train.epochs: 5 → 6`, so a
    /// refused resume names what changed instead of printing two JSON blobs.
    static func fixedChanges(stored: String, now: String) -> [String] {
        guard let old = try? JSONValue.parse(stored), let new = try? JSONValue.parse(now) else {
            return ["stored \(stored), now \(now)"]
        }
        let lines = new.differences(from: old, prefix: "fixed")
        return lines.isEmpty ? ["(equal values, different text)"] : lines
    }
}
