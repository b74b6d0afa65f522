import CNNVizRuntime

/// EigenCAM (Muhammad & Yeasin 2020): the projection of the centred (h·w × C) activations onto
/// their first right-singular vector; gradient-free, so it does not depend on the class.
///
/// Pitfall: an SVD's sign is arbitrary and pytorch-grad-cam keeps whatever NumPy returns, so
/// its map can come out inverted (and then mostly zeroed by the ReLU). cnn-viz flips the sign
/// so that |max| ≥ |min| (Seg-Eigen-CAM, Eq. 13).
public struct EigenCAM: LayerMapMethod {
    public var name: String { "eigencam" }
    public var usesGradients: Bool { false }
    public init() {}

    public func map(_ input: CAMLayerInput) throws -> [Float] {
        try CAMMath.projections(input.activations, flipSign: true)
    }
}

/// EigenGradCAM: EigenCAM on g ⊙ A, which makes it class-discriminative.
public struct EigenGradCAM: LayerMapMethod {
    public var name: String { "eigengradcam" }
    public var usesGradients: Bool { true }
    public init() {}

    public func map(_ input: CAMLayerInput) throws -> [Float] {
        let a = input.activations, g = try input.requireGradients()
        return try CAMMath.projections(a.zippedProduct(g), flipSign: true)
    }
}

extension Tensor {
    /// Element-wise product of equal shapes.
    func zippedProduct(_ other: Tensor) -> Tensor {
        Tensor(shape: shape, floats: zip(floats, other.floats).map { $0 * $1 })
    }
}
