import Foundation

// The closed vocabularies of the trial contract, defined once: the sweep file, the trial config, the engine's
// settings and the probes all use these types (as typealiases where a nested name reads better), so a value
// added here is known everywhere and a value removed fails to compile wherever it was used.

/// `clean` (default: the definition in docs/SCIENCE.md; §10 lists the differences) or `paper` (reproduce the published code's quirk).
public enum Compat: String, Codable, Sendable, Hashable, CaseIterable { case clean, paper }

/// The network families of docs/SCIENCE.md §7.
public enum Architecture: String, Codable, Sendable, Hashable, CaseIterable {
    case convactually, myrtle, vgg11, vgg13, vgg16, vgg19
}

/// Nonlinearity between layers; `linear` makes the whole network a linear map (ConvActually).
public enum Activation: String, Codable, Sendable, Hashable, CaseIterable { case relu, linear }

/// Where a trial's images come from: `synthetic` (embedded), `cifar10` (binary batches), `npz` (arrays).
public enum DatasetName: String, Codable, Sendable, Hashable, CaseIterable { case synthetic, cifar10, npz }

/// Frequency filter applied to train and test images: none, high-pass or low-pass.
public enum ImageFilter: String, Codable, Sendable, Hashable, CaseIterable { case none, hpf, lpf }

/// Where the synthetic class signal lives: `low` = (0, 1/4], `mid` = (1/4, 1/2], `high` = (1/2, √2] of the
/// Nyquist-normalized radius (corners included), `mixed` = every non-zero frequency.
public enum FrequencyBand: String, Codable, Sendable, Hashable, CaseIterable { case low, mid, high, mixed }

/// Learning-rate schedule of a training run.
public enum ScheduleName: String, Codable, Sendable, Hashable, CaseIterable { case constant, cosine, step, plateau }

/// The measurements of docs/SCIENCE.md, by the name a sweep file uses.
public enum ProbeName: String, Codable, Sendable, Hashable, CaseIterable {
    case sensitivity, fourierHeatmap = "fourier_heatmap", lfcHfc = "lfc_hfc", diffeoStability = "diffeo_stability"
    case frequencyPrinciple = "frequency_principle", filterSpectrum = "filter_spectrum"
    case filteredAccuracy = "filtered_accuracy"
}
