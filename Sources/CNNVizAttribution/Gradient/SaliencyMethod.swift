import CNNVizRuntime
import Foundation

/// The gradient family of attribution methods, as Captum defines them.
public enum SaliencyMethod: String, CaseIterable, Sendable {
    /// ∂target/∂x (Captum's Saliency with abs = False; the picture shows |·|).
    case gradient
    /// x ⊙ ∂target/∂x.
    case inputXGradient = "input-x-gradient"
    /// (x − x′) ⊙ Σᵢ sᵢ·∂target/∂x at x′ + αᵢ(x − x′) (Sundararajan et al. 2017).
    case integratedGradients = "integrated-gradients"
    /// The gradient with ReLU passing g·[x > 0]·[g > 0].
    case guidedBackprop = "guided-backprop"
    /// The gradient with ReLU passing g·[g > 0].
    case deconvnet
    /// Guided backprop ⊙ the unnormalised Grad-CAM map at a layer, upsampled nearest (Captum's GuidedGradCam).
    case guidedGradCAM = "guided-gradcam"
    /// Mean over the windows covering a pixel of f(x) − f(x with the window set to a baseline).
    case occlusion

    /// For the methods that are one gradient per input (times the input, for input × gradient):
    /// the backward rules that replace ReLU's own. nil for the others.
    var gradientRules: [String: BackwardRule]? {
        switch self {
        case .gradient, .inputXGradient: return [:]
        case .guidedBackprop: return ReluGradientMode.guided.rules
        case .deconvnet: return ReluGradientMode.deconvnet.rules
        case .integratedGradients, .guidedGradCAM, .occlusion: return nil
        }
    }

    public static func named(_ name: String) throws -> SaliencyMethod {
        guard let method = SaliencyMethod(rawValue: name) else {
            throw CNNVizError(.invalidArgument,
                              "unknown saliency method '\(name)'; expected one of \(allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return method
    }
}

/// How integrated gradients places its steps on [0, 1], as Captum does.
public enum IntegrationRule: String, Sendable {
    /// αᵢ = i/(n − 1), sᵢ = 1/n with the two ends halved. Pitfall: that is Captum's rule, and
    /// its steps sum to (n − 1)/n, not 1, so completeness is off by about 1/n; cnn-viz keeps
    /// it to give Captum's numbers. Gauss–Legendre (the default, as in Captum) has no such bias.
    case riemannTrapezoid = "riemann-trapezoid"
    /// αᵢ = (1 + tᵢ)/2, sᵢ = wᵢ/2 for the Gauss–Legendre nodes tᵢ and weights wᵢ on [−1, 1].
    case gaussLegendre = "gauss-legendre"

    /// (α, step) pairs for n points.
    public func points(_ n: Int) -> [(alpha: Double, step: Double)] {
        switch self {
        case .riemannTrapezoid:
            guard n > 1 else { return [(1, 1)] }
            // α as torch.linspace computes it in float32: from the start for the first half,
            // from the end for the second.
            let step = Float(1) / Float(n - 1)
            return (0..<n).map { i in
                let alpha = i < n / 2 ? Float(i) * step : 1 - Float(n - 1 - i) * step
                return (Double(alpha), (i == 0 || i == n - 1 ? 0.5 : 1) / Double(n))
            }
        case .gaussLegendre:
            return GaussLegendre.nodes(n).map { ((1 + $0.node) / 2, $0.weight / 2) }
        }
    }
}

/// The integrated-gradients baseline x′.
public enum Baseline {
    case zero
    /// The input blurred with a Gaussian of standard deviation σ pixels (separable, edges clamped).
    case blur(sigma: Double)
    case custom(Tensor)
}

/// Noise tunnel (Smilkov et al. 2017; Captum's NoiseTunnel): the attribution of n noisy copies
/// x + ε, ε ~ N(0, σ²), aggregated as the mean (smoothgrad), the mean of squares
/// (smoothgrad-sq) or the variance (vargrad).
public struct NoiseTunnel: Sendable {
    public enum Kind: String, Sendable {
        case smoothgrad, smoothgradSquared = "smoothgrad-sq", vargrad
    }
    public var kind: Kind
    public var samples: Int
    /// σ, absolute as in Captum, or as a fraction of (max − min) of the input (tf-keras-vis).
    public var sigma: Double
    public var sigmaIsFractionOfRange: Bool
    public var seed: UInt64

    public init(kind: Kind, samples: Int, sigma: Double, sigmaIsFractionOfRange: Bool = false, seed: UInt64 = 0) {
        self.kind = kind
        self.samples = samples
        self.sigma = sigma
        self.sigmaIsFractionOfRange = sigmaIsFractionOfRange
        self.seed = seed
    }
}

/// Gauss–Legendre quadrature on [−1, 1].
enum GaussLegendre {
    /// The n nodes (ascending) and weights, by Newton's method on the Legendre polynomial Pₙ:
    /// x ← x − Pₙ(x)/Pₙ′(x) from x₀ = cos(π(i − ¼)/(n + ½)); w = 2/((1 − x²)·Pₙ′(x)²).
    static func nodes(_ n: Int) -> [(node: Double, weight: Double)] {
        var result = [(Double, Double)]()
        for i in 1...max(n, 1) {
            var x = Foundation.cos(Double.pi * (Double(i) - 0.25) / (Double(n) + 0.5))
            var derivative = 0.0
            for _ in 0..<100 {
                var p0 = 1.0, p1 = x
                for k in stride(from: 2, through: n, by: 1) {
                    let p2 = ((2 * Double(k) - 1) * x * p1 - (Double(k) - 1) * p0) / Double(k)
                    p0 = p1
                    p1 = p2
                }
                let pn = n == 1 ? x : p1, pn1 = n == 1 ? 1 : p0
                derivative = Double(n) * (x * pn - pn1) / (x * x - 1)
                let delta = pn / derivative
                x -= delta
                if abs(delta) < 1e-15 { break }
            }
            result.append((x, 2 / ((1 - x * x) * derivative * derivative)))
        }
        return result.sorted { $0.0 < $1.0 }
    }
}
