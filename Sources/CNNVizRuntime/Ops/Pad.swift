/// Pad: grows (or, with negative pads, crops) each axis.
///
/// pads = [x1_begin, x2_begin, …, x1_end, x2_end, …] (input 1 from opset 11, attribute
/// before), restricted to `axes` (input 3, opset 18). Modes: constant (value from input 2
/// or the `value` attribute), reflect (mirror without repeating the edge), edge (repeat the
/// edge), wrap (periodic).
struct Pad: AxisGatherOperator {
    let mode: String
    let attributePads: [Int]?
    let attributeValue: Float

    init(node: Node, opset: Int) throws {
        mode = try node.string("mode", default: "constant")
        guard ["constant", "reflect", "edge", "wrap"].contains(mode) else {
            throw CNNVizError(.invalidAttribute, "Pad mode must be constant, reflect, edge or wrap, found '\(mode)'", location: node.location)
        }
        attributePads = try node.ints("pads") ?? node.ints("paddings")
        attributeValue = try node.float("value", default: 0)
    }

    func gatherPlan(_ inputs: [Tensor?]) throws -> (tables: [[Int]], fill: Float, shape: [Int]) {
        let x = try inputs.required(0, "data")
        let pads = try attributePads ?? inputs.required(1, "pads").integers.map { Int($0) }
        let value = inputs.optional(2).flatMap { $0.count > 0 ? $0.floats.first : nil } ?? attributeValue
        let axes = try inputs.optional(3).map { try $0.integers.map { try Shape.normalizedAxis(Int($0), rank: x.rank) } }
            ?? Array(0..<x.rank)
        guard pads.count == 2 * axes.count else {
            throw CNNVizError(.shapeMismatch, "Pad needs \(2 * axes.count) pads for \(axes.count) axes, found \(pads.count)")
        }
        var tables = x.identityTables
        let strides = Shape.strides(x.shape)
        guard pads.allSatisfy({ $0 >= -Shape.maximumCount && $0 <= Shape.maximumCount }) else {
            throw CNNVizError(.shapeMismatch, "Pad pads \(pads) are out of range")
        }
        var outShape = x.shape
        for (i, axis) in axes.enumerated() { outShape[axis] += pads[i] + pads[i + axes.count] }
        _ = try Shape.checkedCount(outShape.map { max($0, 0) })
        for (i, axis) in axes.enumerated() {
            let size = x.shape[axis], begin = pads[i], end = pads[i + axes.count]
            let outSize = size + begin + end
            guard outSize >= 0 else {
                throw CNNVizError(.shapeMismatch, "Pad of \(begin)/\(end) makes axis \(axis) of \(x.shape) negative")
            }
            if mode != "constant" && size == 0 && outSize > 0 {
                throw CNNVizError(.shapeMismatch, "Pad mode \(mode) cannot pad the empty axis \(axis)")
            }
            tables[axis] = (0..<outSize).map { o in
                let source = Pad.sourceIndex(o - begin, size: size, mode: mode)
                return source.map { $0 * strides[axis] } ?? -1
            }
        }
        return (tables, value, tables.map(\.count))
    }

    /// The source index for position `i` of an axis of `size`, or nil for the constant.
    static func sourceIndex(_ i: Int, size: Int, mode: String) -> Int? {
        if i >= 0 && i < size { return i }
        switch mode {
        case "edge": return min(max(i, 0), size - 1)
        case "wrap": return ((i % size) + size) % size
        case "reflect":
            guard size > 1 else { return 0 }
            let period = 2 * (size - 1)
            let m = ((i % period) + period) % period
            return m < size ? m : period - m
        default: return nil
        }
    }
}

/// Gather: out = data indexed along `axis` by `indices` (negative indices count from the end).
/// out.shape = data.shape[..<axis] + indices.shape + data.shape[axis+1...].
struct Gather: AxisGatherOperator {
    let axis: Int

    init(node: Node) throws { axis = try node.int("axis", default: 0) }

    func gatherPlan(_ inputs: [Tensor?]) throws -> (tables: [[Int]], fill: Float, shape: [Int]) {
        let data = try inputs.required(0, "data"), indices = try inputs.required(1, "indices")
        let a = try Shape.normalizedAxis(axis, rank: data.rank)
        let size = data.shape[a]
        let stride = Shape.strides(data.shape)[a]
        let offsets = try indices.integers.map { raw -> Int in
            let i = raw < 0 ? Int(raw) + size : Int(raw)
            guard i >= 0 && i < size else {
                throw CNNVizError(.invalidArgument, "Gather index \(raw) is out of range for axis \(a) of size \(size)")
            }
            return i * stride
        }
        var tables = data.identityTables
        tables[a] = offsets
        return (tables, 0, Array(data.shape[..<a]) + indices.shape + Array(data.shape[(a + 1)...]))
    }
}
