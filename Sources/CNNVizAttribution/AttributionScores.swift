/// How well a map finds an object whose pixels are known: the measures of `shapes eval`.
///
/// Both take a map of one image, row-major at the scene's size, and a mask of the same size.
public enum AttributionScores {
    /// The pointing game (Zhang et al., "Top-down neural attention by excitation backprop",
    /// 2016): a hit when the map's maximum lies inside the mask. Ties go to the first maximum
    /// in row-major order. Pitfall: the original allows a 15-pixel tolerance around the object
    /// on 224-pixel images; here there is none, which is stricter.
    public static func pointingHit(map: ArraySlice<Float>, mask: [Bool]) -> Bool {
        precondition(map.count == mask.count, "map of \(map.count) values for a mask of \(mask.count)")
        var best = -Float.infinity, bestIndex = 0
        for (offset, value) in map.enumerated() where value > best {
            best = value
            bestIndex = offset
        }
        return mask[bestIndex]
    }

    /// Σ_{p ∈ mask} max(map[p], 0) / Σ_p max(map[p], 0): the share of the positive map's energy
    /// on the object (the "energy-based pointing game" of Score-CAM, Wang et al. 2020).
    /// 0 for an all-zero map. Pitfall: a map spread evenly over the image scores the mask's
    /// share of the image, not 0, so compare against that area fraction.
    public static func energyInside(map: ArraySlice<Float>, mask: [Bool]) -> Double {
        precondition(map.count == mask.count, "map of \(map.count) values for a mask of \(mask.count)")
        var inside = 0.0, total = 0.0
        for (value, covered) in zip(map, mask) where value > 0 {
            total += Double(value)
            if covered { inside += Double(value) }
        }
        return total > 0 ? inside / total : 0
    }
}
