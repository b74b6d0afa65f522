/// ReduceMean, ReduceMax and ReduceSum over a set of axes.
///
/// Axes come from the `axes` attribute (ReduceSum before opset 13, the others before 18) or
/// from input 1 afterwards. No axes means all axes, unless noop_with_empty_axes = 1, which
/// returns the input unchanged. keepdims (default 1) keeps reduced axes with size 1.
/// Sums are accumulated in Double.
struct Reduce: Operator, Differentiable {
    enum Kind { case mean, max, sum }
    let kind: Kind
    let attributeAxes: [Int]?
    let keepDimensions: Bool
    let noopWithEmptyAxes: Bool

    init(node: Node, opset: Int, kind: Kind) throws {
        self.kind = kind
        attributeAxes = try node.ints("axes")
        keepDimensions = try node.int("keepdims", default: 1) != 0
        noopWithEmptyAxes = try node.int("noop_with_empty_axes", default: 0) != 0
    }

    /// The reduced axes (nil for the noop case) and the output shape with them kept as 1.
    func reducedShape(_ x: Tensor, _ inputs: [Tensor?]) throws -> (reduced: Set<Int>, kept: [Int])? {
        var axes = attributeAxes ?? inputs.optional(1)?.integers.map { Int($0) } ?? []
        if axes.isEmpty {
            if noopWithEmptyAxes { return nil }
            axes = Array(0..<x.rank)
        }
        let reduced = Set(try axes.map { try Shape.normalizedAxis($0, rank: x.rank) })
        return (reduced, x.shape.enumerated().map { reduced.contains($0.offset) ? 1 : $0.element })
    }

    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "data")
        guard let (reduced, outFull) = try reducedShape(x, inputs) else { return [x] }
        let outShape = keepDimensions ? outFull : x.shape.enumerated().filter { !reduced.contains($0.offset) }.map(\.element)
        let outStrides = Shape.broadcastStrides(outFull, to: x.shape)
        let outCount = outFull.reduce(1, *)
        let values = x.floats
        var sums = [Double](repeating: kind == .max ? -.infinity : 0, count: outCount)
        var index = [Int](repeating: 0, count: x.rank)
        for i in 0..<values.count {
            var o = 0
            for axis in 0..<x.rank { o += index[axis] * outStrides[axis] }
            let v = Double(values[i])
            sums[o] = kind == .max ? Swift.max(sums[o], v) : sums[o] + v
            var axis = x.rank - 1
            while axis >= 0 {
                index[axis] += 1
                if index[axis] < x.shape[axis] { break }
                index[axis] = 0
                axis -= 1
            }
        }
        let n = Double(x.count / Swift.max(outCount, 1))
        let result = sums.map { Float(kind == .mean ? $0 / n : $0) }
        if x.isFloatingPoint { return [Tensor(shape: outShape, floats: result, elementType: x.elementType)] }
        let integers = sums.map { Shape.saturatingInteger(kind == .mean ? $0 / n : $0) }
        return [Tensor(shape: outShape, integers: integers, elementType: x.elementType)]
    }
}

extension Reduce {
    var backwardReads: BackwardReads { kind == .max ? .inputsAndOutputs : .inputs }

    /// Sum: g broadcast back over the reduced axes; Mean: the same divided by the count;
    /// Max: g split evenly among the elements equal to the maximum (PyTorch's amax rule).
    func backward(_ context: BackwardContext) throws -> [Tensor?] {
        let x = try context.input(0, "data"), g = try context.outputGradient
        guard let (_, kept) = try reducedShape(x, context.inputs) else { return [g] }
        let spread = g.reshaped(kept).broadcast(to: x.shape)
        switch kind {
        case .sum:
            return [spread]
        case .mean:
            return [spread.scaled(by: Float(kept.reduce(1, *)) / Float(Swift.max(x.count, 1)))]
        case .max:
            let maxima = try context.output(0).reshaped(kept).broadcast(to: x.shape)
            let hits = x.zipped(maxima) { $0 == $1 ? 1 : 0 }
            let counts = hits.sumReduced(to: kept).broadcast(to: x.shape)
            return [spread.zipped(hits, counts) { g, hit, count in hit * g / count }]
        }
    }
}
