import Foundation

/// Learning-rate schedules, stepped once per epoch.
public enum LRSchedule: Codable, Sendable, Hashable {
    /// The same rate every epoch.
    case constant
    /// Cosine annealing from the initial rate to `minLR` over `epochs`.
    case cosine(minLR: Double)
    /// Multiply by `gamma` every `stepSize` epochs.
    case step(stepSize: Int, gamma: Double)
    /// ReduceLROnPlateau on the training loss (factor, patience, threshold 1e-4 relative, as PyTorch);
    /// training stops once the rate would fall below `minLR`.
    case plateau(factor: Double, patience: Int, minLR: Double)
}

/// The mutable state of a schedule across epochs.
public struct LRScheduler: Sendable {
    public let schedule: LRSchedule
    public let initialLR: Double
    public let epochs: Int
    public private(set) var lr: Double
    /// Set when a plateau schedule has reached its minimum; the trainer ends training.
    public private(set) var shouldStop = false
    private var best = Double.infinity
    private var badEpochs = 0

    public init(_ schedule: LRSchedule, initialLR: Double, epochs: Int) {
        self.schedule = schedule
        self.initialLR = initialLR
        self.epochs = epochs
        self.lr = initialLR
    }

    /// Advances after `epoch` (0-based) finished with `trainLoss`; returns the rate for the next epoch.
    @discardableResult
    public mutating func endEpoch(_ epoch: Int, trainLoss: Double) -> Double {
        switch schedule {
        case .constant:
            break
        case let .cosine(minLR):
            let t = Double(epoch + 1) / Double(max(1, epochs))
            lr = minLR + (initialLR - minLR) * (1 + cos(Double.pi * min(t, 1))) / 2
        case let .step(stepSize, gamma):
            lr = initialLR * pow(gamma, Double((epoch + 1) / max(1, stepSize)))
        case let .plateau(factor, patience, minLR):
            if trainLoss < best * (1 - 1e-4) {
                best = trainLoss
                badEpochs = 0
            } else {
                badEpochs += 1
                if badEpochs > patience {
                    let next = lr * factor
                    if next < minLR { shouldStop = true } else { lr = next }
                    badEpochs = 0
                }
            }
        }
        return lr
    }
}
