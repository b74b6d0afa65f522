/// What a backward rule sees of one node: its forward tensors and the cotangents of its outputs.
///
/// `inputs[i]` is nil where the input was left out, and also for the input of a Relu or Clip
/// whose producer clamped in place (those rules read their output instead, see `BackwardReads`).
public struct BackwardContext {
    public var inputs: [Tensor?]
    public var outputs: [Tensor?]
    /// ∂L/∂output for each output; nil means zero (the output does not reach the seed).
    public var outputGradients: [Tensor?]
    /// Which inputs need a gradient; a rule may skip the others (returning nil for them).
    public var needsGradient: [Bool]
    /// The shape of each input, known even where the tensor itself was not kept.
    public var inputShapes: [[Int]?] = []
    /// Input slots fed by a ReLU whose own backward the engine skips: the rule multiplies
    /// ∂L/∂xᵢ by [xᵢ > 0] itself (`MasksRectifiedInputs`). Empty for most nodes.
    public var rectifiedInputs: [Bool] = []

    public init(inputs: [Tensor?], outputs: [Tensor?], outputGradients: [Tensor?], needsGradient: [Bool]) {
        self.inputs = inputs
        self.outputs = outputs
        self.outputGradients = outputGradients
        self.needsGradient = needsGradient
    }

    /// Whether input `index` is a ReLU's output whose mask this rule applies.
    public func isRectified(_ index: Int) -> Bool { index < rectifiedInputs.count && rectifiedInputs[index] }

    /// Whether input `index` needs a gradient.
    public func needs(_ index: Int) -> Bool { index < needsGradient.count && needsGradient[index] }

    /// The forward input at `index`, which this rule reads.
    func input(_ index: Int, _ what: String) throws -> Tensor {
        guard index < inputs.count, let tensor = inputs[index] else {
            throw CNNVizError(.invalidModel, "backward needs forward input \(index) (\(what)), which was not kept")
        }
        return tensor
    }

    /// The shape of forward input `index` (all that `BackwardReads.inputShapes` rules read).
    func inputShape(_ index: Int, _ what: String) throws -> [Int] {
        if index < inputShapes.count, let shape = inputShapes[index] { return shape }
        return try input(index, what).shape
    }

    /// The forward output at `index`, which this rule reads.
    func output(_ index: Int) throws -> Tensor {
        guard index < outputs.count, let tensor = outputs[index] else {
            throw CNNVizError(.invalidModel, "backward needs forward output \(index), which was not kept")
        }
        return tensor
    }

    /// ∂L/∂output[index], as zeros of `shape` when the output has no gradient.
    func gradient(_ index: Int, shape: [Int]) -> Tensor {
        if index < outputGradients.count, let gradient = outputGradients[index] { return gradient }
        return Tensor.zeros(shape)
    }

    /// ∂L/∂output[0], which the engine always provides for single-output ops.
    var outputGradient: Tensor {
        get throws {
            guard let gradient = outputGradients.first ?? nil else {
                throw CNNVizError(.invalidModel, "backward called without an output gradient")
            }
            return gradient
        }
    }
}

/// Which forward tensors a backward rule reads, so that the forward pass keeps only those.
///
/// `outputsNotData` reads the outputs and every input but the first (the data input): ReLU
/// and Clip, whose derivative is known from y, so that a producer that clamps its own
/// output in place (a fused Conv+ReLU) never has to keep the unclamped tensor.
///
/// `inputShapes` reads no tensor at all, only the inputs' shapes: Add and Sub, whose gradient
/// is g summed back to each operand's shape, so that an Add's operands need not be kept and
/// a following ReLU can still be folded into it.
public enum BackwardReads: Sendable {
    case inputs, outputsNotData, inputsAndOutputs, inputShapes
    var readsOutputs: Bool { self == .outputsNotData || self == .inputsAndOutputs }
}

/// An operator with a vector–Jacobian product: given ∂L/∂y for its outputs, ∂L/∂x for its inputs.
///
/// `backward` returns one entry per input slot, nil for inputs that need no gradient or that
/// are not differentiable (indices, shapes, integer tensors). Gradients have the input's shape.
public protocol Differentiable {
    func backward(_ context: BackwardContext) throws -> [Tensor?]
    var backwardReads: BackwardReads { get }
}

extension Differentiable {
    public var backwardReads: BackwardReads { .inputsAndOutputs }
}

/// A replacement backward rule for one call, e.g. guided backpropagation's ReLU.
/// It receives the node and the same context as the op's own rule.
public typealias BackwardRule = (_ node: Node, _ context: BackwardContext) throws -> [Tensor?]

/// Observes, and optionally replaces, the gradient ∂L/∂t arriving at a named tensor t once it is
/// complete (all consumers have contributed). Return nil to keep it.
public typealias GradientHook = (_ name: String, _ gradient: Tensor) throws -> Tensor?
