/// LayerCAM (Jiang et al. 2021): map = Σ_c ReLU(g) ⊙ A.
public struct LayerCAM: LayerMapMethod {
    public var name: String { "layercam" }
    public var usesGradients: Bool { true }
    public init() {}

    public func map(_ input: CAMLayerInput) throws -> [Float] {
        try CAMMath.elementwiseSum(input.activations, try input.requireGradients(), eigenSmooth: input.request.eigenSmooth) { a, g in max(g, 0) * a }
    }
}
