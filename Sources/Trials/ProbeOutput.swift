/// The names of every value the probes emit, defined once so the probes, the store and the reports
/// (aggregation, figures) agree by construction instead of by matching string literals.
///
/// Names are dotted, `<probe or quantity>.<value>`; shapes and definitions are in docs/SCIENCE.md
/// ("Outputs" of each section). Values recorded during training carry `@e<epoch>` (`epochSuffix`), and
/// `ProbeSuite` adds the curves `<scalar>.by_epoch` and `<probe>.epochs`.
public enum ProbeOutput {
    // MARK: sensitivity (docs/SCIENCE.md §1)

    /// `[C, H, W]` gradient frequency sensitivity, numpy fft2 order.
    public static let sensitivityMap = "sensitivity.map"
    /// `[C, H, W]` its rms-over-logits variant.
    public static let sensitivityRMSMap = "sensitivity.rms_map"
    /// `[R]` radial profile of `sensitivity.map`.
    public static let sensitivityRadial = "sensitivity.radial"
    /// `[R]` radial profile of `sensitivity.rms_map`.
    public static let sensitivityRMSRadial = "sensitivity.rms_radial"
    /// `[R]` radius of each radial bin (shell index for clean binning).
    public static let sensitivityRadii = "sensitivity.radii"
    /// `[R]` figure curve of the sensitivity: normalized, smoothed, natural log.
    public static let sensitivityLogProfile = "sensitivity.log_profile"
    /// Scalar: mean radius of the sensitivity mass (cycles per image).
    public static let sensitivityCentroid = "sensitivity.centroid"
    /// Scalar: number of images averaged over.
    public static let sensitivityImages = "sensitivity.images"
    /// `[C, H, W]` amplitude spectrum of the (normalized) data, numpy fft2 order.
    public static let dataSpectrumMap = "data_spectrum.map"
    /// `[R]` radial profile of `data_spectrum.map`.
    public static let dataSpectrumRadial = "data_spectrum.radial"
    /// `[R]` figure curve of the data spectrum.
    public static let dataSpectrumLogProfile = "data_spectrum.log_profile"
    /// Scalar, the headline alignment figure: least-squares slope of log sensitivity on log data spectrum.
    public static let alignmentSlope = "alignment.slope"
    /// Scalar: Pearson correlation of the two figure curves over the alignment shells.
    public static let alignmentPearson = "alignment.pearson"
    /// Scalar: Spearman rank correlation of the two figure curves over the alignment shells.
    public static let alignmentSpearman = "alignment.spearman"
    /// Scalar: number of radial shells the alignment figures use.
    public static let alignmentShells = "alignment.shells"

    // MARK: fourier_heatmap, filtered_accuracy (§2)

    /// `[H, W]` error rate under Fourier-basis noise, numpy fft2 order.
    public static let fourierHeatmapError = "fourier_heatmap.error"
    /// `[H, W]` mean logit change under Fourier-basis noise.
    public static let fourierHeatmapLogitChange = "fourier_heatmap.logit_change"
    /// Scalar: noise norm `v`.
    public static let fourierHeatmapV = "fourier_heatmap.v"
    /// Scalar: number of evaluation images.
    public static let fourierHeatmapImages = "fourier_heatmap.images"
    /// Scalar: error rate on the unperturbed images.
    public static let fourierHeatmapCleanError = "fourier_heatmap.clean_error"
    /// Scalar: mean of `fourier_heatmap.error` over all frequencies.
    public static let fourierHeatmapMeanError = "fourier_heatmap.mean_error"
    /// `[B]` window sizes of the filtered-accuracy curves.
    public static let filteredAccuracyBandwidth = "filtered_accuracy.bandwidth"
    /// `[B]` accuracy on low-pass filtered images.
    public static let filteredAccuracyLowpass = "filtered_accuracy.lowpass"
    /// `[B]` accuracy on high-pass filtered images.
    public static let filteredAccuracyHighpass = "filtered_accuracy.highpass"

    // MARK: lfc_hfc (§3)

    /// `[R]` the radii used.
    public static let lfcHfcRadii = "lfc_hfc.radii"
    /// `[R]` accuracy on the low-frequency components.
    public static let lfcAccuracy = "lfc_hfc.lfc_accuracy"
    /// `[R]` accuracy on the high-frequency components.
    public static let hfcAccuracy = "lfc_hfc.hfc_accuracy"
    /// Scalar: accuracy on the low-frequency components at radius `r`.
    public static func lfcAccuracy(radius r: Int) -> String { "lfc_hfc.lfc.r\(r)" }
    /// Scalar: accuracy on the high-frequency components at radius `r`.
    public static func hfcAccuracy(radius r: Int) -> String { "lfc_hfc.hfc.r\(r)" }

    // MARK: diffeo_stability, filter_spectrum (§4)

    /// Scalar: relative sensitivity to diffeomorphisms `D_f`.
    public static let diffeoD = "diffeo_stability.D_f"
    /// Scalar: relative sensitivity to Gaussian noise of the same norm `G_f`.
    public static let diffeoG = "diffeo_stability.G_f"
    /// Scalar: relative stability `R_f = D_f / G_f`.
    public static let diffeoR = "diffeo_stability.R_f"
    /// Scalar: temperature `T` of the deformations.
    public static let diffeoTemperature = "diffeo_stability.temperature"
    /// Scalar: typical displacement `δ` of temperature `T` (pixels).
    public static let diffeoDelta = "diffeo_stability.delta"
    /// Scalar: RMS pixel displacement of the fields actually drawn.
    public static let diffeoDeltaApplied = "diffeo_stability.delta_applied"
    /// Scalar: lower temperature bound `T_min`.
    public static let diffeoTMin = "diffeo_stability.T_min"
    /// Scalar: upper temperature bound `T_max`.
    public static let diffeoTMax = "diffeo_stability.T_max"
    /// Scalar: number of evaluation images.
    public static let diffeoImages = "diffeo_stability.images"
    /// Scalar: number of 3×3 convolution layers measured.
    public static let filterSpectrumLayers = "filter_spectrum.layers"
    /// `[L, 9]` coefficients per layer and Laplacian eigenvector.
    public static let filterSpectrumCoefficients = "filter_spectrum.coefficients"
    /// `[9]` the Laplacian eigenvalues, ascending.
    public static let filterSpectrumEigenvalues = "filter_spectrum.eigenvalues"
    /// `[L, 9]` coefficients relative to initialization.
    public static let filterSpectrumRatio = "filter_spectrum.ratio"

    // MARK: frequency_principle (§5)

    /// Scalar: relative error of the low-frequency part of the fit.
    public static let eLow = "frequency_principle.e_low"
    /// Scalar: relative error of the high-frequency part of the fit.
    public static let eHigh = "frequency_principle.e_high"
    /// Scalar: kernel width `δ` used.
    public static let frequencyPrincipleDelta = "frequency_principle.delta"

    // MARK: recording during training (§6)

    /// The name prefixes of everything probe `probe` emits (`sensitivity` also emits the data spectrum and
    /// the alignment figures; `fourier_heatmap` the filtered accuracies); the first is the probe's own.
    public static func prefixes(of probe: String) -> [String] {
        switch ProbeName(rawValue: probe) {
        case .sensitivity: return ["sensitivity.", "data_spectrum.", "alignment."]
        case .fourierHeatmap: return ["fourier_heatmap.", "filtered_accuracy."]
        default: return [probe + "."]
        }
    }

    /// The suffix of values recorded after epoch `epoch` (1-based; 0 = before training).
    public static func epochSuffix(_ epoch: Int) -> String { "@e\(epoch)" }
    /// `[E]` the values of scalar `name` at each recorded epoch.
    public static func byEpoch(_ name: String) -> String { "\(name).by_epoch" }
    /// `[E]` the epochs at which probe `probe` ran.
    public static func epochs(probe: String) -> String { "\(probe).epochs" }
}
