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
