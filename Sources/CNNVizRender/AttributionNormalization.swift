import CNNVizRuntime

/// An attribution map scaled into [−1, 1] or [0, 1] as Captum's `_normalize_attr` does it.
///
///     a        = Σ_channels attr                        (Captum's reduction_axis=2 on HWC)
///     a        = sign-selected a: max(a,0), min(a,0), |a| or a
///     t        = cumulative-sum threshold of |a| at (100 − outlierPercent)%   (see below)
///     t        = −t for the negative sign
///     norm     = clip(a / t, −1, 1)
///
/// The threshold: sort |a| ascending, take the running sums S_k, and t is the first sorted
/// value whose S_k ≥ S_last · 0.01 · (100 − outlierPercent). So the largest values that
/// together make up `outlierPercent` % of the total attribution saturate at ±1. Pitfall: it
/// is a percentile of the cumulative sum, not of the values; with outlierPercent = 2 far
/// more than 2 % of the pixels can saturate when the mass is concentrated.
/// The sums run in Float32, in order, as `np.cumsum` does for float32 attributions, so the
/// same index is chosen. Where the selected values are all 0 (t = 0), Captum asserts;
/// this returns zeros.
public struct NormalizedAttribution: Sendable {
    public var width: Int
    public var height: Int
    /// Row-major values in `sign.range`.
    public var values: [Float]
    public var sign: AttributionSign
    /// The scale factor t that the values were divided by (negative for `.negative`).
    public var threshold: Float

    /// An already normalised plane, e.g. one mapped back to the original photo's size.
    public init(width: Int, height: Int, values: [Float], sign: AttributionSign, threshold: Float = 1) {
        precondition(values.count == width * height, "\(values.count) values for a \(width)×\(height) plane")
        self.width = width
        self.height = height
        self.values = values
        self.sign = sign
        self.threshold = threshold
    }

    /// Normalises `attribution` shaped [H, W], [C, H, W] or [N, C, H, W] (item `batchIndex`,
    /// channels summed). `outlierPercent` is in [0, 100]; 2 by default, as in Captum.
    public init(_ attribution: Tensor, sign: AttributionSign = .absoluteValue, outlierPercent: Float = 2,
                batchIndex: Int = 0) throws {
        guard outlierPercent >= 0, outlierPercent <= 100 else {
            throw CNNVizError(.invalidArgument, "the outlier percentage must be in [0, 100], not \(outlierPercent)")
        }
        let plane = try MapPlane(attribution, name: "attribution", batchIndex: batchIndex)
        var selected = plane.values
        switch sign {
        case .positive: selected = selected.map { $0 > 0 ? $0 : 0 }
        case .negative: selected = selected.map { $0 < 0 ? $0 : 0 }
        case .absoluteValue: selected = selected.map { abs($0) }
        case .all: break
        }
        var threshold = NormalizedAttribution.cumulativeSumThreshold(selected.map { abs($0) },
                                                                     percentile: 100 - outlierPercent)
        if sign == .negative { threshold = -threshold }
        width = plane.width
        height = plane.height
        self.sign = sign
        self.threshold = threshold
        if threshold == 0 {
            values = [Float](repeating: 0, count: selected.count)
        } else {
            values = selected.map { min(1, max(-1, $0 / threshold)) }
        }
    }

    /// Captum's `_cumulative_sum_threshold(values, percentile)` for non-negative `values`.
    public static func cumulativeSumThreshold(_ values: [Float], percentile: Float) -> Float {
        precondition(percentile >= 0 && percentile <= 100, "percentile \(percentile) outside [0, 100]")
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        var sums = [Float](repeating: 0, count: sorted.count)
        var running: Float = 0
        for (index, value) in sorted.enumerated() {
            running += value
            sums[index] = running
        }
        let target = sums[sums.count - 1] * Float(0.01) * percentile
        let index = sums.firstIndex { $0 >= target } ?? sums.count - 1
        return sorted[index]
    }
}
