import CNNVizRuntime

/// What a CAM method sees of one layer: A = activations [B, C, h, w] and, for gradient
/// methods, g = ∂target/∂A, plus the means to run the model again (ScoreCAM, AblationCAM).
public struct CAMLayerInput {
    public var layer: String
    public var activations: Tensor
    public var gradients: Tensor?
    public var runner: CAMRunner
    public var request: CAMRequest
    public var input: Tensor
    /// The target score of each image.
    public var scores: [Float]
    /// Each image's target and the tensor they read (the pre-softmax logits by default).
    public var targets: TargetSet
    public var logits: String { targets.tensor }

    var batch: Int { activations.shape[0] }
    var channels: Int { activations.shape[1] }
    var plane: Int { activations.shape[2] * activations.shape[3] }

    func requireGradients() throws -> Tensor {
        guard let gradients else { throw CNNVizError(.invalidArgument, "this CAM method needs gradients at '\(layer)'") }
        return gradients
    }
}

/// One method of the CAM family, run by `CAMRunner`: a `LayerMapMethod`, or `FullGrad`,
/// which sums terms over the whole model instead of explaining chosen layers.
public protocol CAMMethod {
    /// The CLI name, e.g. "gradcam++".
    var name: String { get }
    var usesGradients: Bool { get }
}

/// A CAM method that maps one layer: the per-image map over the layer's h×w grid, before
/// ReLU, normalisation and resizing (which `CAMRunner` does the same way for every method).
public protocol LayerMapMethod: CAMMethod {
    /// B·h·w values, image by image.
    func map(_ input: CAMLayerInput) throws -> [Float]
}

/// Methods that weight each channel by one number per image: map = Σ_c w[b, c]·A[b, c].
protocol ChannelWeightedCAM: LayerMapMethod {
    /// B·C weights.
    func weights(_ input: CAMLayerInput) throws -> [Float]
}

extension ChannelWeightedCAM {
    public func map(_ input: CAMLayerInput) throws -> [Float] {
        let weights = try weights(input)
        return CAMMath.weightedSum(input.activations, weights: weights, eigenSmooth: input.request.eigenSmooth)
    }
}

/// The methods by CLI name.
public enum CAMMethods {
    public static let all: [any CAMMethod] = [
        GradCAM(), HiResCAM(), GradCAMElementWise(), GradCAMPlusPlus(), XGradCAM(), LayerCAM(), ScoreCAM(),
        AblationCAM(), EigenCAM(), EigenGradCAM(), FullGrad(),
    ]

    public static func named(_ name: String) throws -> any CAMMethod {
        guard let method = all.first(where: { $0.name == name }) else {
            throw CNNVizError(.invalidArgument,
                              "unknown CAM method '\(name)'; expected one of \(all.map(\.name).joined(separator: ", "))")
        }
        return method
    }
}
