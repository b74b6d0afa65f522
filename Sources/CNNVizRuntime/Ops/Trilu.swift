/// Trilu: the upper (upper = 1, default) or lower triangle of the last two axes, the rest
/// zero. Element (i, j) is kept when j − i ≥ k (upper) or j − i ≤ k (lower); k comes from the
/// optional second input (default 0).
///
/// Backward: g masked the same way (`ElementCopying`).
struct Trilu: ElementCopying {
    let upper: Bool

    init(node: Node) throws { upper = try node.int("upper", default: 1) != 0 }

    func sources(_ shape: [Int], _ inputs: [Tensor?]) throws -> (source: [Int], shape: [Int]) {
        let k = Int(inputs.optional(1)?.integers.first ?? 0)
        guard shape.count >= 2 else { throw CNNVizError(.shapeMismatch, "Trilu's input must have rank ≥ 2, found shape \(shape)") }
        let (rows, columns) = (shape[shape.count - 2], shape[shape.count - 1])
        let count = shape.reduce(1, *)
        return ((0..<count).map { flat in
            let j = flat % columns, i = (flat / columns) % rows
            return (upper ? j - i >= k : j - i <= k) ? flat : -1
        }, shape)
    }
}
