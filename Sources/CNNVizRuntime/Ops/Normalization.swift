import Foundation

/// BatchNormalization: y = scale·(x − mean)/√(var + ε) + bias, per channel (axis 1).
///
/// Inference form by default. With training_mode = 1 (opset 14+) the batch statistics are used
/// and the running statistics are returned as outputs 1 and 2:
/// running = momentum·running + (1 − momentum)·batch, with the population variance.
/// Pitfall: folding to y = a·x + b with a = scale/√(var + ε) is done in Double so that a
/// tiny variance does not lose the last digits.
struct BatchNormalization: Operator {
    let epsilon: Float
    let momentum: Float
    let training: Bool

    init(node: Node, opset: Int) throws {
        epsilon = try node.float("epsilon", default: 1e-5)
        momentum = try node.float("momentum", default: 0.9)
        training = try node.int("training_mode", default: 0) != 0
    }

    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.requiredFloat(0, "X")
        try x.expectRank(2...8, "BatchNormalization input X")
        let scale = try inputs.required(1, "scale").floats, bias = try inputs.required(2, "B").floats
        var mean = try inputs.required(3, "input_mean").floats, variance = try inputs.required(4, "input_var").floats
        let channels = x.shape[1]
        guard [scale.count, bias.count, mean.count, variance.count].allSatisfy({ $0 == channels }) else {
            throw CNNVizError(.shapeMismatch,
                              "BatchNormalization parameters must have \(channels) values (one per channel of X \(x.shape)), found scale \(scale.count), B \(bias.count), mean \(mean.count), var \(variance.count)")
        }
        let batch = x.shape[0], plane = x.count / max(batch * channels, 1)
        var extra = [Tensor]()
        if training {
            let (batchMean, batchVariance) = ChannelStatistics.meanAndVariance(x, batch: batch, channels: channels, plane: plane)
            extra = [
                Tensor(shape: [channels], floats: (0..<channels).map { mean[$0] * momentum + batchMean[$0] * (1 - momentum) }),
                Tensor(shape: [channels], floats: (0..<channels).map { variance[$0] * momentum + batchVariance[$0] * (1 - momentum) }),
            ]
            mean = batchMean
            variance = batchVariance
        }
        var a = [Float](repeating: 0, count: channels), b = [Float](repeating: 0, count: channels)
        for c in 0..<channels {
            let factor = Double(scale[c]) / (Double(variance[c]) + Double(epsilon)).squareRoot()
            a[c] = Float(factor)
            b[c] = Float(Double(bias[c]) - Double(mean[c]) * factor)
        }
        return [ChannelAffine.apply(x, scale: a, shift: b, batch: batch, channels: channels, plane: plane)] + extra
    }
}

/// y[n,c,:] = a[c]·x[n,c,:] + b[c].
enum ChannelAffine {
    static func apply(_ x: Tensor, scale: [Float], shift: [Float], batch: Int, channels: Int, plane: Int) -> Tensor {
        x.withFloats { xp in
            Tensor.filled(shape: x.shape, elementType: x.elementType) { yp in
                Parallel.forChunks(batch * channels, minimumPerWorker: max(1, 16384 / max(plane, 1))) { range in
                    for index in range {
                        let c = index % channels
                        let (a, b) = (scale[c], shift[c])
                        let base = index * plane
                        for i in base..<base + plane { yp[i] = a * xp[i] + b }
                    }
                }
            }
        }
    }
}

/// Mean and population variance per channel, accumulated in Double.
enum ChannelStatistics {
    static func meanAndVariance(_ x: Tensor, batch: Int, channels: Int, plane: Int) -> ([Float], [Float]) {
        let values = x.floats
        var mean = [Float](repeating: 0, count: channels), variance = [Float](repeating: 0, count: channels)
        let count = Double(batch * plane)
        for c in 0..<channels {
            var sum = 0.0, squares = 0.0
            for n in 0..<batch {
                let base = (n * channels + c) * plane
                for i in base..<base + plane {
                    let v = Double(values[i])
                    sum += v
                    squares += v * v
                }
            }
            let m = sum / count
            mean[c] = Float(m)
            variance[c] = Float(max(0, squares / count - m * m))
        }
        return (mean, variance)
    }
}

/// InstanceNormalization: y = scale[c]·(x − μ_nc)/√(σ²_nc + ε) + B[c], with μ and σ² over
/// the spatial positions of each (n, c).
struct InstanceNormalization: Operator {
    let epsilon: Float

    init(node: Node) throws { epsilon = try node.float("epsilon", default: 1e-5) }

    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.requiredFloat(0, "input")
        try x.expectRank(3...8, "InstanceNormalization input")
        let scale = try inputs.required(1, "scale").floats, bias = try inputs.required(2, "B").floats
        let (batch, channels) = (x.shape[0], x.shape[1])
        guard scale.count == channels, bias.count == channels else {
            throw CNNVizError(.shapeMismatch, "InstanceNormalization scale and B must have \(channels) values, found \(scale.count) and \(bias.count)")
        }
        let plane = x.count / max(batch * channels, 1)
        let values = x.floats
        var result = [Float](repeating: 0, count: x.count)
        for index in 0..<(batch * channels) {
            let c = index % channels, base = index * plane
            var sum = 0.0, squares = 0.0
            for i in base..<base + plane { sum += Double(values[i]); squares += Double(values[i]) * Double(values[i]) }
            let mean = sum / Double(plane)
            let variance = max(0, squares / Double(plane) - mean * mean)
            let factor = Double(scale[c]) / (variance + Double(epsilon)).squareRoot()
            for i in base..<base + plane { result[i] = Float((Double(values[i]) - mean) * factor + Double(bias[c])) }
        }
        return [Tensor(shape: x.shape, floats: result, elementType: x.elementType)]
    }
}

/// LRN: y = x / (bias + α/size · Σ x²)^β, the sum over channels
/// [c − ⌊(size − 1)/2⌋, c + ⌈(size − 1)/2⌉] clipped to the valid range.
struct LRN: Operator {
    let alpha: Float, beta: Float, bias: Float, size: Int

    init(node: Node) throws {
        alpha = try node.float("alpha", default: 1e-4)
        beta = try node.float("beta", default: 0.75)
        bias = try node.float("bias", default: 1)
        size = try node.int("size", default: 1)
        guard size >= 1 else { throw CNNVizError(.invalidAttribute, "size must be ≥ 1, found \(size)", location: node.location) }
    }

    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.requiredFloat(0, "X")
        try x.expectRank(3...8, "LRN input X")
        let (batch, channels) = (x.shape[0], x.shape[1])
        let plane = x.count / max(batch * channels, 1)
        let below = (size - 1) / 2, above = size - 1 - below
        let scale = alpha / Float(size)
        return [x.withFloats { xp in
            Tensor.filled(shape: x.shape, elementType: x.elementType) { yp in
                Parallel.forEach(batch * channels) { index in
                    let n = index / channels, c = index % channels
                    let low = max(0, c - below), high = min(channels - 1, c + above)
                    let base = index * plane
                    for i in 0..<plane {
                        var sum: Float = 0
                        for k in low...high {
                            let v = xp[(n * channels + k) * plane + i]
                            sum += v * v
                        }
                        yp[base + i] = xp[base + i] / Foundation.pow(bias + scale * sum, beta)
                    }
                }
            }
        }]
    }
}

extension BatchNormalization: Differentiable {
    var backwardReads: BackwardReads { .inputs }

    /// Inference form, with σ = √(var + ε) and x̂ = (x − mean)/σ:
    /// ∂L/∂x = g·scale/σ, ∂L/∂scale = Σ g·x̂, ∂L/∂B = Σ g, ∂L/∂mean = −Σ g·scale/σ,
    /// ∂L/∂var = −½ Σ g·scale·(x − mean)/σ³, each sum over batch and positions of the channel.
    /// Training mode (batch statistics): ∂L/∂x = scale/σ·(g − mean(g) − x̂·mean(g·x̂)), as in
    /// InstanceNormalization but over (N, positions). Pitfall: the running statistics (outputs
    /// 1 and 2) carry no gradient.
    func backward(_ context: BackwardContext) throws -> [Tensor?] {
        let x = try context.input(0, "X"), g = try context.outputGradient
        let scale = try context.input(1, "scale").floats
        var mean = try context.input(3, "input_mean").floats, variance = try context.input(4, "input_var").floats
        let (batch, channels) = (x.shape[0], x.shape[1])
        let plane = x.count / max(batch * channels, 1)
        if training {
            (mean, variance) = ChannelStatistics.meanAndVariance(x, batch: batch, channels: channels, plane: plane)
        }
        let sums = ChannelStatistics.gradientSums(x, g, mean: mean, variance: variance, epsilon: epsilon,
                                                  groups: channels, batch: batch, plane: plane)
        var result = [Tensor?](repeating: nil, count: 5)
        if context.needs(0) {
            let count = Float(batch * plane)
            result[0] = ChannelStatistics.inputGradient(x, g, groups: channels, batch: batch, plane: plane) { c in
                let inverse = 1 / (variance[c] + epsilon).squareRoot()
                let factor = scale[c] * inverse
                // ∂L/∂x = factor·g − (training ? factor·(Σg + x̂·Σ g·x̂)/count : 0), with x̂ = (x − mean)·inverse.
                return training ? (factor, -factor * sums.g[c] / count, -factor * sums.gxhat[c] / count * inverse, mean[c])
                                : (factor, 0, 0, mean[c])
            }
        }
        if context.needs(1) { result[1] = Tensor(shape: [channels], floats: sums.gxhat) }
        if context.needs(2) { result[2] = Tensor(shape: [channels], floats: sums.g) }
        if !training && context.needs(3) {
            result[3] = Tensor(shape: [channels], floats: (0..<channels).map { -sums.g[$0] * scale[$0] / (variance[$0] + epsilon).squareRoot() })
        }
        if !training && context.needs(4) {
            result[4] = Tensor(shape: [channels], floats: (0..<channels).map {
                -0.5 * sums.gxhat[$0] * scale[$0] / (variance[$0] + epsilon)
            })
        }
        return result
    }
}

extension ChannelStatistics {
    /// Per group (channel, or (n, channel) for instance norm): Σ g and Σ g·x̂ with
    /// x̂ = (x − mean)/√(var + ε), accumulated in Double. `groups` indexes mean/variance;
    /// with batch = 1 and groups = N·C every plane is its own group.
    static func gradientSums(_ x: Tensor, _ g: Tensor, mean: [Float], variance: [Float], epsilon: Float,
                             groups: Int, batch: Int, plane: Int) -> (g: [Float], gxhat: [Float]) {
        let xv = x.floats, gv = g.floats
        var sumG = [Float](repeating: 0, count: groups), sumGX = [Float](repeating: 0, count: groups)
        for c in 0..<groups {
            let inverse = 1 / (Double(variance[c]) + Double(epsilon)).squareRoot()
            var a = 0.0, b = 0.0
            for n in 0..<batch {
                let base = (n * groups + c) * plane
                for i in base..<base + plane {
                    a += Double(gv[i])
                    b += Double(gv[i]) * (Double(xv[i]) - Double(mean[c])) * inverse
                }
            }
            sumG[c] = Float(a)
            sumGX[c] = Float(b)
        }
        return (sumG, sumGX)
    }

    /// ∂L/∂x = α·g + β + γ·(x − μ) per group, with (α, β, γ, μ) from `coefficients(group)`.
    static func inputGradient(_ x: Tensor, _ g: Tensor, groups: Int, batch: Int, plane: Int,
                              coefficients: (Int) -> (Float, Float, Float, Float)) -> Tensor {
        let table = (0..<groups).map(coefficients)
        return x.withFloats { xp in
            g.withFloats { gp in
                Tensor.filled(shape: x.shape, elementType: x.elementType) { out in
                    Parallel.forChunks(batch * groups, minimumPerWorker: max(1, 16384 / max(plane, 1))) { range in
                        for index in range {
                            let (alpha, beta, gamma, mu) = table[index % groups]
                            for i in (index * plane)..<((index + 1) * plane) { out[i] = alpha * gp[i] + beta + gamma * (xp[i] - mu) }
                        }
                    }
                }
            }
        }
    }
}

extension InstanceNormalization: Differentiable {
    var backwardReads: BackwardReads { .inputs }

    /// With x̂ = (x − μ)/σ per (n, c) over its P positions:
    /// ∂L/∂x = scale/σ·(g − Σg/P − x̂·Σ(g·x̂)/P), ∂L/∂scale = Σₙ Σ g·x̂, ∂L/∂B = Σₙ Σ g.
    func backward(_ context: BackwardContext) throws -> [Tensor?] {
        let x = try context.input(0, "input"), g = try context.outputGradient
        let scale = try context.input(1, "scale").floats
        let (batch, channels) = (x.shape[0], x.shape[1])
        let planes = batch * channels, plane = x.count / max(planes, 1)
        let flat = x.reshaped([1, planes, plane])
        let (mean, variance) = ChannelStatistics.meanAndVariance(flat, batch: 1, channels: planes, plane: plane)
        let sums = ChannelStatistics.gradientSums(flat, g.reshaped([1, planes, plane]), mean: mean, variance: variance,
                                                  epsilon: epsilon, groups: planes, batch: 1, plane: plane)
        var result = [Tensor?](repeating: nil, count: 3)
        if context.needs(0) {
            let count = Float(plane)
            result[0] = ChannelStatistics.inputGradient(flat, g.reshaped([1, planes, plane]), groups: planes, batch: 1, plane: plane) { p in
                let inverse = 1 / (variance[p] + epsilon).squareRoot()
                let factor = scale[p % channels] * inverse
                return (factor, -factor * sums.g[p] / count, -factor * sums.gxhat[p] / count * inverse, mean[p])
            }.reshaped(x.shape)
        }
        func perChannel(_ values: [Float]) -> Tensor {
            Tensor(shape: [channels], floats: (0..<channels).map { c in (0..<batch).reduce(0) { $0 + values[$1 * channels + c] } })
        }
        if context.needs(1) { result[1] = perChannel(sums.gxhat) }
        if context.needs(2) { result[2] = perChannel(sums.g) }
        return result
    }
}

extension LRN: Differentiable {
    var backwardReads: BackwardReads { .inputs }

    /// With Dᵢ = bias + s·Σ_{j∈W(i)} xⱼ², s = α/size, and yᵢ = xᵢ·Dᵢ^−β:
    /// ∂L/∂xₖ = gₖ·Dₖ^−β − 2βs·xₖ·Σ_{i : k∈W(i)} gᵢ·xᵢ·Dᵢ^(−β−1), where k ∈ W(i) ⇔
    /// i ∈ [k − above, k + below] (the window mirrored).
    func backward(_ context: BackwardContext) throws -> [Tensor?] {
        let x = try context.input(0, "X"), g = try context.outputGradient
        let (batch, channels) = (x.shape[0], x.shape[1])
        let plane = x.count / max(batch * channels, 1)
        let below = (size - 1) / 2, above = size - 1 - below
        let scale = alpha / Float(size)
        let xv = x.floats, gv = g.floats
        var denominators = [Float](repeating: 0, count: x.count), terms = [Float](repeating: 0, count: x.count)
        for n in 0..<batch {
            for c in 0..<channels {
                let low = max(0, c - below), high = min(channels - 1, c + above)
                for i in 0..<plane {
                    var sum: Float = 0
                    for k in low...high { sum += xv[(n * channels + k) * plane + i] * xv[(n * channels + k) * plane + i] }
                    let index = (n * channels + c) * plane + i
                    denominators[index] = bias + scale * sum
                    terms[index] = gv[index] * xv[index] * Foundation.pow(denominators[index], -beta - 1)
                }
            }
        }
        var result = [Float](repeating: 0, count: x.count)
        for n in 0..<batch {
            for c in 0..<channels {
                let low = max(0, c - above), high = min(channels - 1, c + below)
                for i in 0..<plane {
                    var sum: Float = 0
                    for k in low...high { sum += terms[(n * channels + k) * plane + i] }
                    let index = (n * channels + c) * plane + i
                    result[index] = gv[index] * Foundation.pow(denominators[index], -beta) - 2 * beta * scale * xv[index] * sum
                }
            }
        }
        return [Tensor(shape: x.shape, floats: result, elementType: x.elementType)]
    }
}
