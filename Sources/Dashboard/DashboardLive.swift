import Foundation
import Sweeps

/// What the live stream (`/api/sweeps/NAME/events`) sends after each poll of the store: the status when it
/// changed, and the epochs of every trial whose epoch or state moved since the last poll. A pure value, so
/// tests drive it without a server.
public struct DashboardLive: Sendable {
    /// Most trials whose epochs one poll sends (the rest follow on the next polls).
    public var maxTrialsPerPoll: Int
    private var lastStatus: String?
    private var seen: [String: String] = [:]

    public init(maxTrialsPerPoll: Int = 200) { self.maxTrialsPerPoll = maxTrialsPerPoll }

    /// The changes between the previous poll and `status` (whose encoded JSON is `statusJSON`).
    public mutating func update(_ status: SweepStatus, statusJSON: String) -> (statusChanged: Bool, trials: [String]) {
        let changed = statusJSON != lastStatus
        lastStatus = statusJSON
        var trials: [String] = []
        for t in status.trials where t.epoch != nil && trials.count < maxTrialsPerPoll {
            let mark = "\(t.state.rawValue) \(t.epoch ?? 0) \(t.attempts)"
            if seen[t.id] != mark { seen[t.id] = mark; trials.append(t.id) }
        }
        return (changed, trials)
    }

    /// One server-sent event: `event: NAME` and the data on one line.
    public static func event(_ name: String, _ data: String) -> String {
        "event: \(name)\ndata: \(data.replacingOccurrences(of: "\n", with: " "))\n\n"
    }
}
