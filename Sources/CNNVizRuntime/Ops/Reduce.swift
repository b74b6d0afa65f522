import Foundation

/// The Reduce* family over a set of axes: Mean, Max, Min, Sum, Prod, L1 (Σ|x|), L2 (√Σx²),
/// LogSum (log Σx), LogSumExp (log Σeˣ) and SumSquare (Σx²).
///
/// Axes come from the `axes` attribute (ReduceSum before opset 13, the others before 18) or
/// from input 1 afterwards. No axes means all axes, unless noop_with_empty_axes = 1, which
/// returns the input unchanged. keepdims (default 1) keeps reduced axes with size 1.
/// Sums and products are accumulated in Double. Pitfall: LogSumExp subtracts each group's
/// maximum first, so large inputs do not overflow exp.
struct Reduce: Operator, Differentiable {
    enum Kind { case mean, max, min, sum, prod, l1, l2, logSum, logSumExp, sumSquare }
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

    static let builders: [String: OperatorBuilder] = [
        "ReduceMean": { node, opset in try Reduce(node: node, opset: opset, kind: .mean) },
        "ReduceMax": { node, opset in try Reduce(node: node, opset: opset, kind: .max) },
        "ReduceMin": { node, opset in try Reduce(node: node, opset: opset, kind: .min) },
        "ReduceSum": { node, opset in try Reduce(node: node, opset: opset, kind: .sum) },
        "ReduceProd": { node, opset in try Reduce(node: node, opset: opset, kind: .prod) },
        "ReduceL1": { node, opset in try Reduce(node: node, opset: opset, kind: .l1) },
        "ReduceL2": { node, opset in try Reduce(node: node, opset: opset, kind: .l2) },
        "ReduceLogSum": { node, opset in try Reduce(node: node, opset: opset, kind: .logSum) },
        "ReduceLogSumExp": { node, opset in try Reduce(node: node, opset: opset, kind: .logSumExp) },
        "ReduceSumSquare": { node, opset in try Reduce(node: node, opset: opset, kind: .sumSquare) },
    ]

    /// The output shape with reduced axes kept as 1, and for each input element the flat index
    /// of the output element it reduces into; nil for the noop case.
    func groups(_ shape: [Int], _ inputs: [Tensor?]) throws -> (kept: [Int], group: [Int], reduced: Set<Int>)? {
        var axes = attributeAxes ?? inputs.optional(1)?.integers.map { Int($0) } ?? []
        if axes.isEmpty {
            if noopWithEmptyAxes { return nil }
            axes = Array(0..<shape.count)
        }
        let reduced = Set(try axes.map { try Shape.normalizedAxis($0, rank: shape.count) })
        let (kept, group) = Shape.reductionGroups(shape, reducing: reduced)
        return (kept, group, reduced)
    }

    func reduce(_ values: [Double], group: [Int], count: Int) -> [Double] {
        let perGroup = Double(values.count / Swift.max(count, 1))
        switch kind {
        case .max, .min:
            var result = [Double](repeating: kind == .max ? -.infinity : .infinity, count: count)
            for (v, o) in zip(values, group) {
                if v.isNaN { result[o] = .nan } else if !result[o].isNaN { result[o] = kind == .max ? Swift.max(result[o], v) : Swift.min(result[o], v) }
            }
            return result
        case .prod:
            var result = [Double](repeating: 1, count: count)
            for (v, o) in zip(values, group) { result[o] *= v }
            return result
        case .logSumExp:
            var peak = [Double](repeating: -.infinity, count: count)
            for (v, o) in zip(values, group) { peak[o] = Swift.max(peak[o], v) }
            var sums = [Double](repeating: 0, count: count)
            for (v, o) in zip(values, group) { sums[o] += Foundation.exp(v - peak[o]) }
            return zip(sums, peak).map { $1.isInfinite ? $1 : Foundation.log($0) + $1 }
        default:
            var sums = [Double](repeating: 0, count: count)
            for (v, o) in zip(values, group) {
                switch kind {
                case .l1: sums[o] += Swift.abs(v)
                case .l2, .sumSquare: sums[o] += v * v
                default: sums[o] += v
                }
            }
            switch kind {
            case .mean: return sums.map { $0 / perGroup }
            case .l2: return sums.map { $0.squareRoot() }
            case .logSum: return sums.map { Foundation.log($0) }
            default: return sums
            }
        }
    }

    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "data")
        guard let (kept, group, reduced) = try groups(x.shape, inputs) else { return [x] }
        let outShape = keepDimensions ? kept : x.shape.enumerated().filter { !reduced.contains($0.offset) }.map(\.element)
        let result = reduce(x.floats.map(Double.init), group: group, count: kept.reduce(1, *))
        if x.isFloatingPoint { return [Tensor(shape: outShape, floats: result.map { Float($0) }, elementType: x.elementType)] }
        return [Tensor(shape: outShape, integers: result.map { x.elementType.wrapped(Shape.saturatingInteger($0)) }, elementType: x.elementType)]
    }
}

extension Reduce {
    var backwardReads: BackwardReads { kind == .sum || kind == .mean || kind == .l1 || kind == .sumSquare ? .inputs : .inputsAndOutputs }

    /// ∂L/∂xᵢ = g_o · ∂y_o/∂xᵢ for the group o of xᵢ: 1 (Sum), 1/n (Mean), sign x (L1), 2x
    /// (SumSquare), x/y (L2), 1/Σx (LogSum), e^(x−y) (LogSumExp), Π_{j≠i} x_j (Prod, also at
    /// zeros); Max and Min split g evenly among the elements equal to the extremum (PyTorch's
    /// amax rule).
    func backward(_ context: BackwardContext) throws -> [Tensor?] {
        let x = try context.input(0, "data"), g = try context.outputGradient
        guard let (kept, group, _) = try groups(x.shape, context.inputs) else { return [g] }
        let count = kept.reduce(1, *)
        let values = x.floats.map(Double.init), gradient = g.floats.map(Double.init)
        let y = kind == .sum || kind == .mean || kind == .l1 || kind == .sumSquare ? [] : try context.output(0).floats.map(Double.init)
        var result = [Double](repeating: 0, count: values.count)
        switch kind {
        case .max, .min:
            var ties = [Double](repeating: 0, count: count)
            for (v, o) in zip(values, group) where v == y[o] { ties[o] += 1 }
            for i in values.indices where values[i] == y[group[i]] { result[i] = gradient[group[i]] / ties[group[i]] }
        case .prod:
            var zeros = [Int](repeating: 0, count: count), nonZeroProduct = [Double](repeating: 1, count: count)
            for (v, o) in zip(values, group) { if v == 0 { zeros[o] += 1 } else { nonZeroProduct[o] *= v } }
            for i in values.indices {
                let o = group[i]
                let others = values[i] != 0 ? (zeros[o] == 0 ? nonZeroProduct[o] / values[i] : 0) : (zeros[o] == 1 ? nonZeroProduct[o] : 0)
                result[i] = gradient[o] * others
            }
        default:
            let n = Double(values.count / Swift.max(count, 1))
            for i in values.indices {
                let o = group[i], v = values[i]
                let partial: Double
                switch kind {
                case .sum: partial = 1
                case .mean: partial = 1 / n
                case .l1: partial = v > 0 ? 1 : v < 0 ? -1 : 0
                case .sumSquare: partial = 2 * v
                case .l2: partial = y[o] == 0 ? 0 : v / y[o]
                case .logSum: partial = 1 / Foundation.exp(y[o])
                default: partial = Foundation.exp(v - y[o])
                }
                result[i] = gradient[o] * partial
            }
        }
        return [Tensor(shape: x.shape, floats: result.map { Float($0) }, elementType: x.elementType)]
    }
}
