import CNNVizRuntime
import Foundation

/// How the optimised images are made from free parameters, as Lucent's `param.image` does:
/// a Fourier spectrum (`FourierBasis`) or the pixels themselves, then optionally
/// `ColorDecorrelation`, then a sigmoid to [0, 1] RGB.
///
/// The parameters start as N(0, 0.01²) from the seed (Lucent's `sd`). Pitfall: the pixel
/// parameterisation without decorrelation is what plain gradient ascent on an image does; it
/// makes high-frequency patterns that excite the channel but say little (the point of the
/// Fourier basis is to precondition towards natural images' 1/f spectrum).
public struct ImageParameterization: Sendable, Equatable {
    public enum Basis: Sendable, Equatable {
        /// A half spectrum scaled by 1/max(f, 1/max(W, H))^decay.
        case fourier(decay: Double)
        case pixel
    }

    public var basis: Basis
    public var decorrelatesColor: Bool

    public init(basis: Basis = .fourier(decay: 1), decorrelatesColor: Bool = true) {
        self.basis = basis
        self.decorrelatesColor = decorrelatesColor
    }

    /// Lucent's default: Fourier with decay 1, decorrelated colour.
    public static let lucent = ImageParameterization()
}

/// A batch of images in an `ImageParameterization`: the parameters, and the map from them to
/// [B, 3, H, W] images in [0, 1] with its adjoint.
public struct ParameterizedImages {
    public let parameterization: ImageParameterization
    public let batch: Int
    public let height: Int
    public let width: Int
    /// The free parameters, [B, 3, H, K, 2] (Fourier) or [B, 3, H, W] (pixel).
    public var parameters: [Float]
    let fourier: FourierBasis?

    /// Parameters drawn from N(0, sd²) with the seed.
    public init(_ parameterization: ImageParameterization, batch: Int, height: Int, width: Int, seed: UInt64, sd: Float = 0.01) {
        var noise = GaussianNoise(seed: seed)
        let perPlane = parameterization.basis == .pixel ? height * width : height * (width / 2 + 1) * 2
        self.init(parameterization, batch: batch, height: height, width: width,
                  parameters: (0..<(batch * 3 * perPlane)).map { _ in Float(noise.next()) * sd })
    }

    /// Given parameters (a spectrum from elsewhere, to compare with Lucent's).
    public init(_ parameterization: ImageParameterization, batch: Int, height: Int, width: Int, parameters: [Float]) {
        self.parameterization = parameterization
        self.batch = batch
        self.height = height
        self.width = width
        if case .fourier(let decay) = parameterization.basis {
            fourier = FourierBasis(height: height, width: width, decay: decay)
        } else {
            fourier = nil
        }
        self.parameters = parameters
        precondition(parameters.count == batch * 3 * (fourier?.parametersPerPlane ?? height * width), "parameter count")
    }

    /// The images, [B, 3, H, W] in [0, 1].
    public func images() -> Tensor {
        let plane = height * width
        var linear = parameters
        if let fourier {
            linear = [Float](unsafeUninitializedCapacity: batch * 3 * plane) { out, initialized in
                parameters.withUnsafeBufferPointer { p in fourier.images(p.baseAddress!, planes: batch * 3, into: out.baseAddress!) }
                initialized = out.count
            }
        }
        return Tensor(shape: [batch, 3, height, width],
                      floats: ColorDecorrelation.validRGB(linear, pixels: plane, decorrelates: parameterization.decorrelatesColor))
    }

    /// ∂L/∂parameters from ∂L/∂images, given the images `images()` returned.
    public func parameterGradient(images: Tensor, imageGradient: Tensor) -> [Float] {
        let plane = height * width
        let gradient = ColorDecorrelation.validRGBGradient(images: images.floats, imageGradient: imageGradient.floats, pixels: plane,
                                                           decorrelates: parameterization.decorrelatesColor)
        guard let fourier else { return gradient }
        return [Float](unsafeUninitializedCapacity: parameters.count) { out, initialized in
            gradient.withUnsafeBufferPointer { g in fourier.parameterGradient(g.baseAddress!, planes: batch * 3, into: out.baseAddress!) }
            initialized = out.count
        }
    }
}
