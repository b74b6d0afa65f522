import CNNVizRuntime
import Foundation

extension SaliencyRunner {
    /// The attribution of `samples` noisy copies x + σ·ε (ε standard normal, seeded), reduced
    /// to the mean, the mean of squares, or the variance (mean of squares − square of mean).
    /// Pitfall: the copies are drawn in sample order whatever the batch size, so the result
    /// does not depend on `--batch-size`.
    func noiseTunnel(_ tunnel: NoiseTunnel, _ method: SaliencyMethod, _ x: Tensor, target: any AttributionTarget, logits: String,
                     request: SaliencyRequest) throws -> Tensor {
        guard tunnel.samples >= 1, tunnel.sigma >= 0 else {
            throw CNNVizError(.invalidArgument, "the noise tunnel needs at least 1 sample and σ ≥ 0, found \(tunnel.samples) and \(tunnel.sigma)")
        }
        let values = x.floats
        let range = Double((values.max() ?? 0) - (values.min() ?? 0))
        let sigma = tunnel.sigmaIsFractionOfRange ? tunnel.sigma * range : tunnel.sigma
        var normal = GaussianNoise(seed: tunnel.seed)
        var sum = [Double](repeating: 0, count: values.count), squares = sum
        // Plain gradient methods run their noisy copies through the network a batch at a time;
        // the others (which batch internally, or need one image) take one copy at a time.
        let batch = method.gradientRules == nil ? 1 : max(1, request.batchSize)
        var done = 0
        while done < tunnel.samples {
            let count = min(batch, tunnel.samples - done)
            let noisy = (0..<count).map { _ in
                Tensor(shape: x.shape, floats: values.map { $0 + Float(sigma * normal.next()) })
            }
            let attributions = method.gradientRules == nil
                ? try noisy.map { try attribute(method, $0, target: target, logits: logits, request: request) }
                : try gradientAttributions(method, noisy, target: target, logits: logits, request: request, reportsProgress: false)
            for attribution in attributions {
                for (i, v) in attribution.floats.enumerated() {
                    sum[i] += Double(v)
                    squares[i] += Double(v) * Double(v)
                }
            }
            done += count
            progress?(done, tunnel.samples)
        }
        let n = Double(tunnel.samples)
        let reduced: [Float] = (0..<values.count).map { i in
            switch tunnel.kind {
            case .smoothgrad: return Float(sum[i] / n)
            case .smoothgradSquared: return Float(squares[i] / n)
            case .vargrad: return Float(max(0, squares[i] / n - (sum[i] / n) * (sum[i] / n)))
            }
        }
        return Tensor(shape: x.shape, floats: reduced)
    }
}

/// Standard normal samples: SplitMix64 for uniform bits, then Box–Muller.
struct GaussianNoise {
    var state: UInt64
    var spare: Double?

    init(seed: UInt64) { state = seed }

    mutating func uniform() -> Double {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return (Double(z >> 11) + 0.5) / Double(1 << 53)
    }

    mutating func next() -> Double {
        if let spare {
            self.spare = nil
            return spare
        }
        let (u, v) = (uniform(), uniform())
        let radius = (-2 * Foundation.log(u)).squareRoot(), angle = 2 * Double.pi * v
        spare = radius * Foundation.sin(angle)
        return radius * Foundation.cos(angle)
    }
}

/// A separable Gaussian blur per channel, edges clamped (the "blur" baseline).
enum GaussianBlur {
    /// Kernel exp(−k²/2σ²) normalised, radius ⌈3σ⌉; σ ≤ 0 returns the input.
    static func apply(_ x: Tensor, sigma: Double) -> Tensor {
        guard sigma > 0 else { return x }
        let radius = Int((3 * sigma).rounded(.up))
        var kernel = (-radius...radius).map { Foundation.exp(-Double($0 * $0) / (2 * sigma * sigma)) }
        let total = kernel.reduce(0, +)
        kernel = kernel.map { $0 / total }
        let (planes, height, width) = (x.shape[0] * x.shape[1], x.shape[2], x.shape[3])
        var values = x.floats.map(Double.init)
        var temp = values
        for p in 0..<planes {
            let base = p * height * width
            for y in 0..<height {
                for xx in 0..<width {
                    var sum = 0.0
                    for (k, weight) in kernel.enumerated() { sum += weight * values[base + y * width + min(max(xx + k - radius, 0), width - 1)] }
                    temp[base + y * width + xx] = sum
                }
            }
            for y in 0..<height {
                for xx in 0..<width {
                    var sum = 0.0
                    for (k, weight) in kernel.enumerated() { sum += weight * temp[base + min(max(y + k - radius, 0), height - 1) * width + xx] }
                    values[base + y * width + xx] = sum
                }
            }
        }
        return Tensor(shape: x.shape, floats: values.map { Float($0) })
    }
}
