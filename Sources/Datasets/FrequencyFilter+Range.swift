import TensorCore

extension FrequencyFilter {
    /// What happens to filtered pixels before a model sees them (the LFC/HFC test sets of
    /// docs/SCIENCE.md §3). There is deliberately no clipping to [0, 1]: a high-frequency component is
    /// zero-mean, so clipping would delete about half of it.
    public enum OutputRange: String, Sendable, Hashable, Codable, CaseIterable {
        /// The real-valued filtered image as is (the clean default; the model holds its own normalization).
        case unchanged
        /// Each image divided by its maximum over channels and pixels, `x / max(x)` (Wang et al.'s
        /// published code); an image whose maximum is 0 or not finite is left unchanged.
        case paperRescale
    }

    /// Filters `[N, C, H, W]` images, then maps them into range as `range` says.
    public func apply(_ images: Tensor, range: OutputRange) throws -> Tensor {
        var out = try apply(images)
        switch range {
        case .unchanged:
            break
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
