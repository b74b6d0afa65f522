/// Grad-CAM element-wise (pytorch-grad-cam's GradCAMElementWise): map = Σ_c ReLU(g ⊙ A).
public struct GradCAMElementWise: LayerMapMethod {
    public var name: String { "gradcam-elementwise" }
    public var usesGradients: Bool { true }
    public init() {}

    public func map(_ input: CAMLayerInput) throws -> [Float] {
        try CAMMath.elementwiseSum(input.activations, try input.requireGradients(), eigenSmooth: input.request.eigenSmooth) { a, g in max(a * g, 0) }
    }
}
