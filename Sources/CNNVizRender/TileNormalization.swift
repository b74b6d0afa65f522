/// How the values of grid tiles are scaled into [0, 1] before they are coloured.
///
///     x' = (x − min) / (max − min)
///
/// with min and max over one tile (`perTile`, the default: every tile uses its full range,
/// so weak channels look as strong as strong ones) or over all tiles of the grid (`shared`:
/// tiles compare with one another). Where max = min the tile is 0, as in torchvision's
/// `make_grid(normalize=True)`, rather than a division by zero. NaN counts as 0.
public enum TileNormalization: Sendable {
    case perTile
    case shared

    /// Min-max scales `values` with the given range.
    static func scaled(_ values: ArraySlice<Float>, minimum: Float, maximum: Float) -> [Float] {
        let span = maximum - minimum
        guard span > 0, span.isFinite else { return [Float](repeating: 0, count: values.count) }
        return values.map { $0.isNaN ? 0 : min(1, max(0, ($0 - minimum) / span)) }
    }

    /// The smallest and largest non-NaN values, or (0, 0).
    static func range<C: Collection>(of values: C) -> (minimum: Float, maximum: Float) where C.Element == Float {
        var low = Float.infinity, high = -Float.infinity
        for value in values where !value.isNaN {
            low = min(low, value)
            high = max(high, value)
        }
        return low <= high ? (low, high) : (0, 0)
    }
}
