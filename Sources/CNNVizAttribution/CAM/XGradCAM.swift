/// XGrad-CAM (Fu et al. 2020): w_c = Σ_hw (g·A) / (Σ_hw A + 1e-7).
public struct XGradCAM: ChannelWeightedCAM {
    public var name: String { "xgradcam" }
    public var usesGradients: Bool { true }
    public init() {}

    func weights(_ input: CAMLayerInput) throws -> [Float] {
        let a = input.activations.floats, g = try input.requireGradients().floats
        let plane = input.plane
        return (0..<(input.batch * input.channels)).map { bc in
            let base = bc * plane
            var activationSum: Float = 0, weighted: Float = 0
            for i in 0..<plane {
                activationSum += a[base + i]
                weighted += g[base + i] * a[base + i]
            }
            return weighted / (activationSum + 1e-7)
        }
    }
}
