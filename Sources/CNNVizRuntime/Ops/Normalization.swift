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
