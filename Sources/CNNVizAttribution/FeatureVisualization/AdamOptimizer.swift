import CNNVizRuntime
import Foundation

/// Adam (Kingma & Ba), as `torch.optim.Adam` steps it, minimising:
/// m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g², p ← p − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε).
///
/// Pitfall: ε is added after the bias correction of √v, as torch does; adding it before
/// (the paper's ε̂) changes the first steps when gradients are tiny.
public struct AdamOptimizer: Sendable {
    public var learningRate: Float
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var epsilon: Float = 1e-8
    private var firstMoment: [Float] = []
    private var secondMoment: [Float] = []
    public private(set) var steps = 0

    public init(learningRate: Float) { self.learningRate = learningRate }

    /// One step on `parameters` down the gradient of the loss; elementwise, so chunks run in
    /// parallel with the same result.
    public mutating func step(_ parameters: inout [Float], gradient: [Float]) {
        if firstMoment.count != parameters.count {
            firstMoment = [Float](repeating: 0, count: parameters.count)
            secondMoment = firstMoment
        }
        steps += 1
        let correction1 = 1 - pow(beta1, Float(steps)), correction2Root = (1 - pow(beta2, Float(steps))).squareRoot()
        let stepSize = learningRate / correction1
        let (beta1, beta2, epsilon) = (self.beta1, self.beta2, self.epsilon)
        parameters.withUnsafeMutableBufferPointer { p in
            firstMoment.withUnsafeMutableBufferPointer { m in
                secondMoment.withUnsafeMutableBufferPointer { v in
                    gradient.withUnsafeBufferPointer { g in
                        Parallel.forChunks(p.count, minimumPerWorker: 32768) { range in
                            for i in range {
                                m[i] = beta1 * m[i] + (1 - beta1) * g[i]
                                v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i]
                                p[i] -= stepSize * m[i] / (v[i].squareRoot() / correction2Root + epsilon)
                            }
                        }
                    }
                }
            }
        }
    }
}
