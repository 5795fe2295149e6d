import TensorCore

extension FrequencyFilter {
    /// What to do with filtered pixels that leave [0, 1] (SCIENCE.md §3's LFC/HFC test sets).
    public enum OutputRange: String, Sendable, Hashable, Codable, CaseIterable {
        /// Keep the real part as is (the paper's hpf training data, normalized afterwards).
        case unchanged
        /// Clip to [0, 1] (clean default for evaluating on filtered test sets).
        case clip
        /// Divide each image by its maximum over channels and pixels (the published LFC/HFC code).
        case paperRescale
    }

    /// Filters `[N, C, H, W]` images, then maps them into range as `range` says.
    public func apply(_ images: Tensor, range: OutputRange) throws -> Tensor {
        var out = try apply(images)
        switch range {
        case .unchanged:
            break
        case .clip:
            for k in 0..<out.count { out.data[k] = Swift.min(Swift.max(out.data[k], 0), 1) }
        case .paperRescale:
            guard out.rank == 4 else {
                throw DatasetError(.invalidArgument, "paperRescale needs [N, C, H, W] images, got \(out.shape)")
            }
            let inner = out.shape[1] * out.shape[2] * out.shape[3]
            for i in 0..<out.shape[0] {
                let r = (i * inner)..<((i + 1) * inner)
                guard let m = out.data[r].max(), m != 0, m.isFinite else { continue }
                for k in r { out.data[k] /= m }
            }
        }
        return out
    }
}
