import CNNVizRuntime
import Foundation

/// Grad-CAM++ (Chattopadhyay et al. 2018, Eq. 19), as pytorch-grad-cam computes it:
/// α = g² / (2g² + (Σ_hw A)·g³ + 1e-6), α = 0 where g = 0; w_c = Σ_hw ReLU(g)·α.
///
/// With `exponentialScore` the paper's exp(score) form is used instead (as tf-keras-vis does):
/// the gradients of exp(S) are exp(S)·g, so g², g³ get exp(S)², exp(S)³ factors.
/// Pitfall: pytorch-grad-cam adds ε = 1e-6 always, not only where the denominator is 0.
public struct GradCAMPlusPlus: ChannelWeightedCAM {
    public var exponentialScore = false
    public var name: String { "gradcam++" }
    public var usesGradients: Bool { true }
    public init(exponentialScore: Bool = false) { self.exponentialScore = exponentialScore }

    func weights(_ input: CAMLayerInput) throws -> [Float] {
        let a = input.activations.floats, g = try input.requireGradients().floats
        let plane = input.plane
        return (0..<(input.batch * input.channels)).map { bc in
            let base = bc * plane
            var activationSum = 0.0
            for i in 0..<plane { activationSum += Double(a[base + i]) }
            let factor = exponentialScore ? Foundation.exp(Double(input.scores[bc / input.channels])) : 1
            var weight = 0.0
            for i in 0..<plane {
                let gradient = Double(g[base + i])
                guard gradient != 0 else { continue }
                let g2 = gradient * gradient * (exponentialScore ? factor * factor : 1)
                let g3 = gradient * gradient * gradient * (exponentialScore ? factor * factor * factor : 1)
                let alpha = g2 / (2 * g2 + activationSum * g3 + 1e-6)
                weight += max(gradient * factor, 0) * alpha
            }
            return Float(weight)
        }
    }
}
