/// Grad-CAM (Selvaraju et al. 2017): w_c = mean over h,w of g; map = Σ_c w_c·A_c.
public struct GradCAM: ChannelWeightedCAM {
    public var name: String { "gradcam" }
    public var usesGradients: Bool { true }
    public init() {}

    func weights(_ input: CAMLayerInput) throws -> [Float] {
        let g = try input.requireGradients().floats
        let plane = input.plane
        return (0..<(input.batch * input.channels)).map { bc in
            var sum: Float = 0
            for i in 0..<plane { sum += g[bc * plane + i] }
            return sum / Float(plane)
        }
    }
}
