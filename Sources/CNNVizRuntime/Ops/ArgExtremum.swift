/// ArgMax and ArgMin: the index of the largest (smallest) element along `axis`, int64.
/// keepdims (default 1) keeps the axis with size 1. On ties the first index wins, or the last
/// with select_last_index = 1. Pitfall: NaN is not treated specially (comparisons are false).
struct ArgExtremum: Operator {
    let largest: Bool
    let axis: Int
    let keepDimensions: Bool
    let selectLast: Bool

    init(node: Node, largest: Bool) throws {
        self.largest = largest
        axis = try node.int("axis", default: 0)
        keepDimensions = try node.int("keepdims", default: 1) != 0
        selectLast = try node.int("select_last_index", default: 0) != 0
    }

    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "data")
        let axis = try Shape.normalizedAxis(axis, rank: x.rank)
        let (outer, length, inner) = Shape.around(x.shape, axis: axis)
        guard length > 0 else { throw CNNVizError(.shapeMismatch, "cannot take an arg-extremum over an empty axis of \(x.shape)") }
        let values = x.floats
        var result = [Int64]()
        result.reserveCapacity(outer * inner)
        for o in 0..<outer {
            for j in 0..<inner {
                var best = 0
                for i in 1..<length {
                    let v = values[(o * length + i) * inner + j], b = values[(o * length + best) * inner + j]
                    if largest ? (v > b || (selectLast && v == b)) : (v < b || (selectLast && v == b)) { best = i }
                }
                result.append(Int64(best))
            }
        }
        var shape = x.shape
        if keepDimensions { shape[axis] = 1 } else { shape.remove(at: axis) }
        return [Tensor(shape: shape, integers: result)]
    }
}
