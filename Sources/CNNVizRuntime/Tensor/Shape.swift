/// Shape arithmetic: strides, broadcasting and axis normalisation.
public enum Shape {
    /// Row-major strides, in elements.
    public static func strides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var running = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[axis] = running
            running *= shape[axis]
        }
        return strides
    }

    /// NumPy broadcasting: shapes are right-aligned; each pair of dims must be equal or one of them 1.
    public static func broadcast(_ a: [Int], _ b: [Int], location: String? = nil) throws -> [Int] {
        let rank = max(a.count, b.count)
        var result = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            if da == db || db == 1 {
                result[i] = da
            } else if da == 1 {
                result[i] = db
            } else {
                throw CNNVizError(.shapeMismatch,
                                  "shapes \(a) and \(b) cannot be broadcast together (dimension \(i): \(da) vs \(db))",
                                  location: location)
            }
        }
        return result
    }

    /// Strides for reading a tensor of `shape` as if it had `target` shape (0 on broadcast axes).
    public static func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
        let own = strides(shape)
        let offset = target.count - shape.count
        return (0..<target.count).map { axis in
            axis < offset || shape[axis - offset] == 1 ? 0 : own[axis - offset]
        }
    }

    /// The largest element count cnn-viz allocates for one tensor (2³¹ values, 8 GiB of Float32).
    public static let maximumCount = 1 << 31

    /// The product of `shape`, checked: every dimension ≥ 0 and the product within `maximumCount`,
    /// so that a corrupt or hostile shape is an error instead of an overflow or a huge allocation.
    public static func checkedCount(_ shape: [Int], location: String? = nil) throws -> Int {
        var count = 1
        for dim in shape {
            guard dim >= 0 else {
                throw CNNVizError(.shapeMismatch, "shape \(shape) has a negative dimension", location: location)
            }
            let (product, overflow) = count.multipliedReportingOverflow(by: dim)
            guard !overflow, product <= maximumCount else {
                throw CNNVizError(.shapeMismatch, "shape \(shape) has more than \(maximumCount) elements", location: location)
            }
            count = product
        }
        return count
    }

    /// A float converted to Int64 the way a C cast saturates: NaN → 0, out of range → the nearest limit.
    /// Pitfall: 2⁶³ itself is out of range, and Float rounds Int64.max up to exactly that.
    @inline(__always)
    public static func saturatingInteger<F: BinaryFloatingPoint>(_ value: F) -> Int64 {
        if value.isNaN { return 0 }
        if value >= F(9.223372036854775807e18) { return .max }
        if value < F(-9.223372036854775807e18) { return .min }
        return Int64(value)
    }

    /// Maps a possibly negative axis into 0..<rank.
    public static func normalizedAxis(_ axis: Int, rank: Int, location: String? = nil) throws -> Int {
        let normalized = axis < 0 ? axis + rank : axis
        guard normalized >= 0 && normalized < rank else {
            throw CNNVizError(.invalidAttribute, "axis \(axis) is out of range for a tensor of rank \(rank)",
                              location: location)
        }
        return normalized
    }
}
