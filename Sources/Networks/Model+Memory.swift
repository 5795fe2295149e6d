import TensorCore

/// Where a trained model's memory goes, for `fsweep bench train`'s peak-RSS comparison.
public struct ModelMemory: Sendable, Codable {
    /// Parameter values and gradients (the optimizer's momentum buffers are as large again as the values).
    public var parameterBytes: Int
    /// The convolutions' own work buffers: im2col columns, batch-GEMM matrices, unrolled weight matrices.
    public var convolutionWorkspaceBytes: Int
    /// The process-wide Winograd buffers (transformed filters, per-thread filter-gradient partials and tile
    /// matrices), sized for the largest layer.
    public var winogradBytes: Int

    enum CodingKeys: String, CodingKey {
        case parameterBytes = "parameter_bytes", convolutionWorkspaceBytes = "convolution_workspace_bytes"
        case winogradBytes = "winograd_bytes"
    }
}

extension Model {
    /// The model's memory by owner now (after a step: the buffers have their working sizes). oneDNN's blocked
    /// copies and the activations kept for backward are not listed; they are the rest of the resident set.
    public var memory: ModelMemory {
        let parameters = parameters.reduce(0) { $0 + 8 * $1.value.count }
        let convolutions = network.layers.compactMap { $0 as? Conv2D }
        let workspaces = convolutions.reduce(0) { $0 + $1.workspace.bytes }
        return ModelMemory(parameterBytes: parameters, convolutionWorkspaceBytes: workspaces,
                           winogradBytes: WinogradBuffers.shared.bytes)
    }
}
