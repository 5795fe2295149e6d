import Foundation

extension SweepStatus.Trial {
    /// What a leased trial is doing, from the last epoch its worker reported: `queued` (its worker has not
    /// started it: the lease is on its way or reserved as that worker's next trial), `starting` (no epoch yet),
    /// `training` (epochs left), `probing` (every epoch trained: the probes and the final evaluation run now);
    /// nil for trials that are not leased.
    public var phase: String? {
        guard state == .leased else { return nil }
        if queued { return "queued" }
        guard let epoch else { return "starting" }
        if let epochs, epoch >= epochs { return "probing" }
        return "training"
    }

    /// `queued next`, `starting`, `training epoch 3/5` (the epoch under way), `probing (5/5 epochs trained)`.
    public var phaseText: String {
        switch phase {
        case "queued"?:
            return "queued next"
        case "training"?:
            let next = (epoch ?? 0) + 1
            return "training epoch \(next)\(epochs.map { "/\($0)" } ?? "")"
        case "probing"?:
            return "probing (\(epoch ?? 0)/\(epochs ?? 0) epochs trained)"
        default:
            return "starting"
        }
    }
}
