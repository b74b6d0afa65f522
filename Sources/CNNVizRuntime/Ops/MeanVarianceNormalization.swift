import Foundation

/// MeanVarianceNormalization: (x − μ)/(σ + 1e-9) over `axes` (default [0, 2, 3]), σ the
/// population standard deviation, as ONNX's function body defines it (ε added to σ, not under
/// the root). Backward: `GroupStatistics.inputGradient` with ε outside the root.
struct MeanVarianceNormalization: Operator, Differentiable {
    let axes: [Int]

    init(node: Node) throws { axes = try node.ints("axes") ?? [0, 2, 3] }

    func statistics(_ x: Tensor) throws -> GroupStatistics {
        let reduced = Set(try axes.map { try Shape.normalizedAxis($0, rank: x.rank) })
        let (kept, group) = Shape.reductionGroups(x.shape, reducing: reduced)
        return GroupStatistics(x.floats, group: group, count: kept.reduce(1, *), epsilon: 1e-9, epsilonOutsideRoot: true)
    }

    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.requiredFloat(0, "X")
        return [Tensor(shape: x.shape, floats: try statistics(x).standardized(x.floats).map { Float($0) }, elementType: x.elementType)]
    }

    var backwardReads: BackwardReads { .inputs }

    func backward(_ context: BackwardContext) throws -> [Tensor?] {
        let x = try context.input(0, "X"), g = try context.outputGradient
        let dx = try statistics(x).inputGradient(g.floats.map(Double.init), values: x.floats)
        return [Tensor(shape: x.shape, floats: dx.map { Float($0) }, elementType: x.elementType)]
    }
}
