/// CumSum: running sums along `axis` (input 1, a scalar). exclusive = 1 leaves out the element
/// itself (the first sum is 0); reverse = 1 sums from the end.
///
/// Backward: ∂L/∂x is the cumulative sum of g in the opposite direction, equally exclusive.
struct CumSum: Operator, Differentiable {
    let exclusive: Bool
    let reverse: Bool

    init(node: Node) throws {
        exclusive = try node.int("exclusive", default: 0) != 0
        reverse = try node.int("reverse", default: 0) != 0
    }

    static func sums(_ values: [Double], shape: [Int], axis: Int, exclusive: Bool, reverse: Bool) -> [Double] {
        let inner = shape[(axis + 1)...].reduce(1, *), length = shape[axis]
        let outer = shape[..<axis].reduce(1, *)
        var result = [Double](repeating: 0, count: values.count)
        for o in 0..<outer {
            for i in 0..<inner {
                var running = 0.0
                for step in 0..<length {
                    let position = reverse ? length - 1 - step : step
                    let flat = (o * length + position) * inner + i
                    if exclusive { result[flat] = running; running += values[flat] } else { running += values[flat]; result[flat] = running }
                }
            }
        }
        return result
    }

    func axis(_ inputs: [Tensor?], rank: Int) throws -> Int {
        let axis = try inputs.required(1, "axis")
        guard axis.count == 1, !axis.isFloatingPoint else {
            throw CNNVizError(.invalidArgument, "CumSum's axis must be one integer, found \(axis)")
        }
        return try Shape.normalizedAxis(Int(axis.integers[0]), rank: rank)
    }

    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "x")
        let axis = try axis(inputs, rank: x.rank)
        switch x.storage {
        case .float(let values):
            let sums = CumSum.sums(values.map(Double.init), shape: x.shape, axis: axis, exclusive: exclusive, reverse: reverse)
            return [Tensor(shape: x.shape, floats: sums.map { Float($0) }, elementType: x.elementType)]
        case .integer(let values):
            let sums = CumSum.sums(values.map(Double.init), shape: x.shape, axis: axis, exclusive: exclusive, reverse: reverse)
            return [Tensor(shape: x.shape, integers: sums.map { x.elementType.wrapped(Int64($0)) }, elementType: x.elementType)]
        }
    }

    /// Reads the axis input (usually a constant).
    var backwardReads: BackwardReads { .inputs }

    func backward(_ context: BackwardContext) throws -> [Tensor?] {
        let g = try context.outputGradient
        let axis = try axis(context.inputs, rank: g.rank)
        let sums = CumSum.sums(g.floats.map(Double.init), shape: g.shape, axis: axis, exclusive: exclusive, reverse: !reverse)
        return [Tensor(shape: g.shape, floats: sums.map { Float($0) }, elementType: g.elementType), nil]
    }
}
