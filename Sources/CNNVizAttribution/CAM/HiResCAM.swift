/// HiResCAM (Draelos & Carin 2020): map = Σ_c g ⊙ A, with no spatial averaging, so the map is
/// faithful to the score for models whose head is linear after the layer.
public struct HiResCAM: LayerMapMethod {
    public var name: String { "hirescam" }
    public var usesGradients: Bool { true }
    public init() {}

    public func map(_ input: CAMLayerInput) throws -> [Float] {
        try CAMMath.elementwiseSum(input.activations, try input.requireGradients(), eigenSmooth: input.request.eigenSmooth) { a, g in a * g }
    }
}
