import Foundation

/// Updates named parameters from their gradients, keeping whatever state it needs per name.
///
/// The contract every optimizer here follows:
/// - a gradient for a name that is not among the parameters throws `.unknownTensor`;
/// - a gradient whose shape differs from its parameter's throws `.shapeMismatch` naming it;
/// - all gradients are checked before any parameter changes, so a throwing step changes nothing;
/// - a parameter without a gradient is left alone, and its state (momentum, step count) does
///   not advance, as in PyTorch where a parameter whose `.grad` is None is skipped.
public protocol Optimizer {
    mutating func step(_ parameters: inout [String: Tensor], gradients: [String: Tensor]) throws
}

/// Stochastic gradient descent with momentum, as `torch.optim.SGD` defines it.
///
/// g ← ∇ + λ·p                          (weight decay λ: L2 added to the gradient)
/// v ← g on the first step, else μ·v + (1 − dampening)·g
/// d ← g + μ·v if nesterov, else v
/// p ← p − η·d
///
/// Pitfall: this is PyTorch's form, with the learning rate outside the velocity. Sutskever's
/// v ← μ·v − η·g gives the same trajectory only while η is constant, and implementations that
/// start from v = 0 take a first step (1 − dampening) times too small; PyTorch starts from v = g.
public struct SGD: Optimizer {
    public var learningRate: Float
    public var momentum: Float
    public var dampening: Float
    public var weightDecay: Float
    public var nesterov: Bool
    /// The momentum buffer v per parameter name (empty when momentum is 0).
    public private(set) var velocities: [String: [Float]] = [:]

    public init(learningRate: Float, momentum: Float = 0, dampening: Float = 0, weightDecay: Float = 0, nesterov: Bool = false) {
        self.learningRate = learningRate
        self.momentum = momentum
        self.dampening = dampening
        self.weightDecay = weightDecay
        self.nesterov = nesterov
    }

    public mutating func step(_ parameters: inout [String: Tensor], gradients: [String: Tensor]) throws {
        let location = "SGD"
        try OptimizerChecks.hyperparameter("learningRate", learningRate, location: location)
        try OptimizerChecks.hyperparameter("momentum", momentum, location: location)
        try OptimizerChecks.hyperparameter("weightDecay", weightDecay, location: location)
        guard dampening.isFinite else {
            throw CNNVizError(.invalidArgument, "dampening is \(dampening); it should be a finite number", location: location)
        }
        if nesterov, momentum <= 0 || dampening != 0 {
            throw CNNVizError(.invalidArgument,
                              "Nesterov momentum needs momentum > 0 and dampening 0, found momentum \(momentum) and dampening \(dampening)",
                              location: location)
        }
        let names = try OptimizerChecks.validated(parameters, gradients, state: velocities.mapValues(\.count), location: location)
        let lr = Double(learningRate), mu = Double(momentum), decay = Double(weightDecay), damp = Double(dampening)
        for name in names {
            guard let parameter = parameters[name], let gradient = gradients[name] else { continue }
            var p = parameter.floats
            let g = gradient.floats
            if mu == 0 {
                for i in p.indices { p[i] = Float(Double(p[i]) - lr * (Double(g[i]) + decay * Double(p[i]))) }
            } else {
                let first = velocities[name] == nil
                var v = velocities.removeValue(forKey: name) ?? [Float](repeating: 0, count: p.count)
                for i in p.indices {
                    let d = Double(g[i]) + decay * Double(p[i])
                    v[i] = Float(first ? d : mu * Double(v[i]) + (1 - damp) * d)
                    let direction = nesterov ? d + mu * Double(v[i]) : Double(v[i])
                    p[i] = Float(Double(p[i]) - lr * direction)
                }
                velocities[name] = v
            }
            parameters[name] = Tensor(shape: parameter.shape, floats: p, elementType: parameter.elementType)
        }
    }
}

/// Adam and AdamW, as `torch.optim.Adam` and `torch.optim.AdamW` define them.
///
/// t ← t + 1 (per parameter)
/// AdamW (`decoupled`): p ← p·(1 − η·λ);   Adam: g ← ∇ + λ·p
/// m ← β₁·m + (1 − β₁)·g,   v ← β₂·v + (1 − β₂)·g²
/// p ← p − (η / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
///
/// Pitfalls: ε is added after the bias correction of √v, as PyTorch (and the paper) do;
/// TensorFlow's "ε-hat" form adds it before, which matters while v is tiny. And Adam's L2 term
/// is scaled by the adaptive denominator, so it is not weight decay: only AdamW decays weights
/// by η·λ per step. PyTorch's AdamW defaults to λ = 0.01; here λ defaults to 0 for both.
public struct Adam: Optimizer {
    public var learningRate: Float
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float
    public var weightDecay: Float
    /// true: AdamW (weight decay applied to the parameter); false: Adam (L2 added to the gradient).
    public var decoupled: Bool
    /// Per parameter name: the step count t, the first moment m and the second moment v.
    public private(set) var steps: [String: Int] = [:]
    public private(set) var firstMoments: [String: [Float]] = [:]
    public private(set) var secondMoments: [String: [Float]] = [:]

    public init(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
                weightDecay: Float = 0, decoupled: Bool = false) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupled = decoupled
    }

    public mutating func step(_ parameters: inout [String: Tensor], gradients: [String: Tensor]) throws {
        let location = decoupled ? "AdamW" : "Adam"
        try OptimizerChecks.hyperparameter("learningRate", learningRate, location: location)
        try OptimizerChecks.hyperparameter("epsilon", epsilon, location: location)
        try OptimizerChecks.hyperparameter("weightDecay", weightDecay, location: location)
        for (label, beta) in [("beta1", beta1), ("beta2", beta2)] where !(beta >= 0 && beta < 1) {
            throw CNNVizError(.invalidArgument, "\(label) is \(beta); it should be in [0, 1)", location: location)
        }
        let names = try OptimizerChecks.validated(parameters, gradients, state: firstMoments.mapValues(\.count), location: location)
        let lr = Double(learningRate), b1 = Double(beta1), b2 = Double(beta2), eps = Double(epsilon), decay = Double(weightDecay)
        for name in names {
            guard let parameter = parameters[name], let gradient = gradients[name] else { continue }
            var p = parameter.floats
            let g = gradient.floats
            var m = firstMoments[name] ?? [Float](repeating: 0, count: p.count)
            var v = secondMoments[name] ?? [Float](repeating: 0, count: p.count)
            firstMoments[name] = nil
            secondMoments[name] = nil
            let t = (steps[name] ?? 0) + 1
            let stepSize = lr / (1 - pow(b1, Double(t)))
            let correction2 = (1 - pow(b2, Double(t))).squareRoot()
            for i in p.indices {
                var gi = Double(g[i]), pi = Double(p[i])
                if decoupled { pi *= 1 - lr * decay } else { gi += decay * pi }
                let mi = b1 * Double(m[i]) + (1 - b1) * gi
                let vi = b2 * Double(v[i]) + (1 - b2) * gi * gi
                m[i] = Float(mi)
                v[i] = Float(vi)
                p[i] = Float(pi - stepSize * mi / (vi.squareRoot() / correction2 + eps))
            }
            steps[name] = t
            firstMoments[name] = m
            secondMoments[name] = v
            parameters[name] = Tensor(shape: parameter.shape, floats: p, elementType: parameter.elementType)
        }
    }
}

/// The checks shared by the optimizers, all made before any parameter changes.
enum OptimizerChecks {
    static func hyperparameter(_ name: String, _ value: Float, location: String) throws {
        guard value.isFinite, value >= 0 else {
            throw CNNVizError(.invalidArgument, "\(name) is \(value); it should be a finite number ≥ 0", location: location)
        }
    }

    /// The names of the parameters to update, sorted; throws for an unknown name, a shape
    /// mismatch, a non-floating tensor, or state kept for a parameter of another size.
    static func validated(_ parameters: [String: Tensor], _ gradients: [String: Tensor], state: [String: Int],
                          location: String) throws -> [String] {
        let names = gradients.keys.sorted()
        for name in names {
            guard let gradient = gradients[name] else { continue }
            guard let parameter = parameters[name] else {
                let known = parameters.keys.sorted()
                let list = known.prefix(8).joined(separator: ", ") + (known.count > 8 ? ", …" : "")
                throw CNNVizError(.unknownTensor,
                                  "gradient for '\(name)', but there is no parameter of that name; parameters: \(list.isEmpty ? "none" : list)",
                                  location: location)
            }
            guard gradient.shape == parameter.shape else {
                throw CNNVizError(.shapeMismatch,
                                  "gradient for parameter '\(name)' has shape \(gradient.shape), but the parameter has shape \(parameter.shape)",
                                  location: location)
            }
            guard parameter.isFloatingPoint, gradient.isFloatingPoint else {
                throw CNNVizError(.invalidArgument,
                                  "parameter '\(name)' is \(parameter) with gradient \(gradient); only floating-point tensors can be trained",
                                  location: location)
            }
            if let count = state[name], count != parameter.count {
                throw CNNVizError(.shapeMismatch,
                                  "the optimizer's state for parameter '\(name)' has \(count) values, but the parameter now has \(parameter.count); use a new optimizer after resizing a parameter",
                                  location: location)
            }
        }
        return names
    }
}
