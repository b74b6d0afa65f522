import Foundation

/// Softmax: yᵢ = e^(xᵢ − max) / Σⱼ e^(xⱼ − max); LogSoftmax: yᵢ = xᵢ − max − ln Σⱼ e^(xⱼ − max).
///
/// Opset 13+: along `axis` (default −1). Before 13: over the flattened trailing dims from
/// `axis` (default 1), the input coerced to 2-D. Pitfall: subtracting the max keeps exp from
/// overflowing; the sum is accumulated in Double.
struct Softmax: Operator {
    let axis: Int
    let coercesTo2D: Bool
    let logarithmic: Bool

    init(node: Node, opset: Int, logarithmic: Bool) throws {
        coercesTo2D = opset < 13
        axis = try node.int("axis", default: coercesTo2D ? 1 : -1)
        self.logarithmic = logarithmic
    }

    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.requiredFloat(0, "input")
        let a = try Shape.normalizedAxis(axis, rank: x.rank)
        let outer = x.shape[..<a].reduce(1, *)
        let length = coercesTo2D ? x.shape[a...].reduce(1, *) : x.shape[a]
        let inner = coercesTo2D ? 1 : x.shape[(a + 1)...].reduce(1, *)
        return [x.withFloats { xp in
            Tensor.filled(shape: x.shape, elementType: x.elementType) { yp in
                Parallel.forChunks(outer * inner, minimumPerWorker: max(1, 8192 / max(length, 1))) { range in
                    for line in range {
                        let base = (line / inner) * length * inner + line % inner
                        var maximum = -Float.infinity
                        for j in 0..<length { maximum = max(maximum, xp[base + j * inner]) }
                        var sum = 0.0
                        for j in 0..<length {
                            let e = Foundation.exp(xp[base + j * inner] - maximum)
                            yp[base + j * inner] = e
                            sum += Double(e)
                        }
                        if logarithmic {
                            let logSum = Float(Foundation.log(sum))
                            for j in 0..<length { yp[base + j * inner] = xp[base + j * inner] - maximum - logSum }
                        } else {
                            let scale = Float(1 / sum)
                            for j in 0..<length { yp[base + j * inner] *= scale }
                        }
                    }
                }
            }
        }]
    }
}

extension Softmax: Differentiable {
    var backwardReads: BackwardReads { .outputsNotData }

    /// Along each softmax line, with y the output: Softmax ∂L/∂xᵢ = yᵢ·(gᵢ − Σⱼ gⱼyⱼ);
    /// LogSoftmax ∂L/∂xᵢ = gᵢ − e^{yᵢ}·Σⱼ gⱼ. Sums in Double.
    func backward(_ context: BackwardContext) throws -> [Tensor?] {
        let y = try context.output(0), g = try context.outputGradient
        let a = try Shape.normalizedAxis(axis, rank: y.rank)
        let outer = y.shape[..<a].reduce(1, *)
        let length = coercesTo2D ? y.shape[a...].reduce(1, *) : y.shape[a]
        let inner = coercesTo2D ? 1 : y.shape[(a + 1)...].reduce(1, *)
        return [y.withFloats { yp in
            g.withFloats { gp in
                Tensor.filled(shape: y.shape, elementType: y.elementType) { dx in
                    for line in 0..<(outer * inner) {
                        let base = (line / inner) * length * inner + line % inner
                        var sum = 0.0
                        for j in 0..<length {
                            let i = base + j * inner
                            sum += logarithmic ? Double(gp[i]) : Double(gp[i]) * Double(yp[i])
                        }
                        let total = Float(sum)
                        for j in 0..<length {
                            let i = base + j * inner
                            dx[i] = logarithmic ? gp[i] - Foundation.exp(yp[i]) * total : yp[i] * (gp[i] - total)
                        }
                    }
                }
            }
        }]
    }
}
