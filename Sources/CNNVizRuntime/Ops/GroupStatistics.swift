import Foundation

/// Mean and spread of groups of elements, for the standardising ops (LayerNormalization,
/// GroupNormalization, MeanVarianceNormalization): x̂ = (x − μ_g) / D_g, with D_g = √(σ²_g + ε)
/// or D_g = σ_g + ε (MVN), σ² the population variance, all in Double.
///
/// Backward, with d = ∂L/∂x̂ and n elements per group: ∂L/∂xᵢ = (dᵢ − mean d)/D −
/// (xᵢ − μ)·mean(d·(x − μ)) / (D²·S), where S = D when ε sits under the root and S = σ when it
/// is added to σ (the derivative of D is (xᵢ − μ)/(n·S)). Pitfall: a constant group has σ = 0;
/// with ε under the root that is harmless, with ε added to σ the second term is dropped.
struct GroupStatistics {
    let group: [Int]
    let count: Int
    let epsilonOutsideRoot: Bool
    var mean: [Double]
    var denominator: [Double]
    var deviation: [Double]

    init(_ values: [Float], group: [Int], count: Int, epsilon: Double, epsilonOutsideRoot: Bool = false) {
        self.group = group
        self.count = count
        self.epsilonOutsideRoot = epsilonOutsideRoot
        var sums = [Double](repeating: 0, count: count), sizes = [Double](repeating: 0, count: count)
        for (v, g) in zip(values, group) { sums[g] += Double(v); sizes[g] += 1 }
        mean = zip(sums, sizes).map { $0 / Swift.max($1, 1) }
        var squares = [Double](repeating: 0, count: count)
        for (v, g) in zip(values, group) { let d = Double(v) - mean[g]; squares[g] += d * d }
        let variance = zip(squares, sizes).map { $0 / Swift.max($1, 1) }
        deviation = variance.map { $0.squareRoot() }
        denominator = epsilonOutsideRoot ? deviation.map { $0 + epsilon } : variance.map { ($0 + epsilon).squareRoot() }
    }

    /// (x − μ)/D per element.
    func standardized(_ values: [Float]) -> [Double] {
        zip(values, group).map { (Double($0) - mean[$1]) / denominator[$1] }
    }

    /// 1/D per group (LayerNormalization's InvStdDev output).
    var inverseDenominator: [Double] { denominator.map { 1 / $0 } }

    /// ∂L/∂x from d = ∂L/∂x̂ (see the type's comment).
    func inputGradient(_ d: [Double], values: [Float]) -> [Double] {
        var sizes = [Double](repeating: 0, count: count), sumD = sizes, sumDX = sizes
        for i in d.indices {
            let g = group[i]
            sizes[g] += 1
            sumD[g] += d[i]
            sumDX[g] += d[i] * (Double(values[i]) - mean[g])
        }
        return d.indices.map { i in
            let g = group[i], n = sizes[g], centred = Double(values[i]) - mean[g]
            let spread = epsilonOutsideRoot ? deviation[g] : denominator[g]
            let second = spread == 0 ? 0 : centred * (sumDX[g] / n) / (denominator[g] * denominator[g] * spread)
            return (d[i] - sumD[g] / n) / denominator[g] - second
        }
    }
}
