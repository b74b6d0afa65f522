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

/// Hardmax: 1 at the first maximum along `axis`, 0 elsewhere. From opset 13 `axis` (default
/// −1) is one axis; before, the input is read as 2-D [∏dims[..<axis], ∏dims[axis...]] (default
/// axis 1) and the maximum is over each row. Piecewise constant: no gradient flows.
struct Hardmax: Operator {
    let axis: Int
    let flattens: Bool

    init(node: Node, opset: Int) throws {
        flattens = opset < 13
        axis = try node.int("axis", default: flattens ? 1 : -1)
    }

    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.requiredFloat(0, "input")
        let axis = try Shape.normalizedAxis(axis, rank: x.rank)
        let (outer, length, inner) = flattens ? (x.shape[..<axis].reduce(1, *), x.shape[axis...].reduce(1, *), 1)
                                              : Shape.around(x.shape, axis: axis)
        let values = x.floats
        var result = [Float](repeating: 0, count: values.count)
        for o in 0..<outer where length > 0 {
            for j in 0..<inner {
                var best = 0
                for i in 1..<length where values[(o * length + i) * inner + j] > values[(o * length + best) * inner + j] { best = i }
                result[(o * length + best) * inner + j] = 1
            }
        }
        return [Tensor(shape: x.shape, floats: result, elementType: x.elementType)]
    }
}
