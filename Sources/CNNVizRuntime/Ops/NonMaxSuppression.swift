/// NonMaxSuppression: per image and class, greedily keeps the highest-scoring boxes, dropping
/// any box whose IoU with a kept one exceeds iou_threshold; at most max_output_boxes_per_class
/// per class (0, the default, keeps none), only scores above score_threshold. Returns
/// [selected, 3] int64 rows (batch, class, box), per image and class in selection order.
/// Boxes are [y₁, x₁, y₂, x₂] with corners in either order (center_point_box = 0) or
/// [x_c, y_c, w, h] (center_point_box = 1). The output length depends on the values.
struct NonMaxSuppression: Operator {
    let centerPointBox: Bool

    init(node: Node) throws { centerPointBox = try node.int("center_point_box", default: 0) != 0 }

    /// (y₁, x₁, y₂, x₂) with y₁ ≤ y₂ and x₁ ≤ x₂.
    func corners(_ b: ArraySlice<Float>) -> (Float, Float, Float, Float) {
        let v = Array(b)
        if centerPointBox { return (v[1] - v[3] / 2, v[0] - v[2] / 2, v[1] + v[3] / 2, v[0] + v[2] / 2) }
        return (Swift.min(v[0], v[2]), Swift.min(v[1], v[3]), Swift.max(v[0], v[2]), Swift.max(v[1], v[3]))
    }

    static func intersectionOverUnion(_ a: (Float, Float, Float, Float), _ b: (Float, Float, Float, Float)) -> Float {
        let height = Swift.max(0, Swift.min(a.2, b.2) - Swift.max(a.0, b.0)), width = Swift.max(0, Swift.min(a.3, b.3) - Swift.max(a.1, b.1))
        let intersection = height * width
        let union = (a.2 - a.0) * (a.3 - a.1) + (b.2 - b.0) * (b.3 - b.1) - intersection
        return union > 0 ? intersection / union : 0
    }

    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let boxes = try inputs.requiredFloat(0, "boxes"), scores = try inputs.requiredFloat(1, "scores")
        guard boxes.rank == 3, boxes.shape[2] == 4, scores.rank == 3, scores.shape[0] == boxes.shape[0], scores.shape[2] == boxes.shape[1] else {
            throw CNNVizError(.shapeMismatch, "NonMaxSuppression needs boxes [B, S, 4] and scores [B, C, S], found \(boxes.shape) and \(scores.shape)")
        }
        let limit = Int(inputs.optional(2)?.integers.first ?? 0)
        let iouThreshold = inputs.optional(3)?.floats.first ?? 0
        let scoreThreshold = inputs.optional(4)?.floats.first
        let (batches, classes, count) = (scores.shape[0], scores.shape[1], scores.shape[2])
        let b = boxes.floats, s = scores.floats
        var selected = [Int64]()
        for batch in 0..<batches {
            let boxCorners = (0..<count).map { corners(b[((batch * count + $0) * 4)..<((batch * count + $0) * 4 + 4)]) }
            for c in 0..<classes {
                let base = (batch * classes + c) * count
                let order = (0..<count).filter { scoreThreshold == nil || s[base + $0] > scoreThreshold! }
                    .sorted { s[base + $0] == s[base + $1] ? $0 < $1 : s[base + $0] > s[base + $1] }
                var kept = [Int]()
                for candidate in order where kept.count < limit {
                    if kept.allSatisfy({ NonMaxSuppression.intersectionOverUnion(boxCorners[$0], boxCorners[candidate]) <= iouThreshold }) {
                        kept.append(candidate)
                        selected += [Int64(batch), Int64(c), Int64(candidate)]
                    }
                }
            }
        }
        return [Tensor(shape: [selected.count / 3, 3], integers: selected)]
    }
}
