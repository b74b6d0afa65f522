import CNNVizRuntime
import Foundation

/// How an image becomes a model input: resize, crop, channel order, scale, mean and std.
///
/// x[c] = (pixel[c]·scale − mean[c]) / std[c] in NCHW, after resizing the short side to
/// `resize` (bilinear, half-pixel centres) and centre-cropping to `crop`.
public struct Preprocessing: Sendable, Equatable {
    public var resizeShortSide: Int?
    /// The long side after a short-side resize is ⌊side·long/short⌋ (torchvision) or, when set,
    /// rounded to nearest (the Caffe reference pipeline that SqueezeNet's labels were checked with).
    public var roundsLongSide = false
    /// Exact output size (width, height) when set; overrides the short-side resize.
    public var resizeTo: (Int, Int)?
    public var crop: Int?
    public var grayscale: Bool
    public var bgr: Bool
    public var scale: Float
    public var mean: [Float]
    public var std: [Float]

    public static func == (a: Preprocessing, b: Preprocessing) -> Bool {
        a.resizeShortSide == b.resizeShortSide && a.roundsLongSide == b.roundsLongSide && a.resizeTo?.0 == b.resizeTo?.0 && a.resizeTo?.1 == b.resizeTo?.1
            && a.crop == b.crop && a.grayscale == b.grayscale && a.bgr == b.bgr && a.scale == b.scale
            && a.mean == b.mean && a.std == b.std
    }

    /// torchvision's ImageNet recipe: short side 256, centre crop 224, RGB in [0, 1], mean/std.
    public static let imagenet = Preprocessing(resizeShortSide: 256, crop: 224, grayscale: false, bgr: false, scale: 1 / 255,
                                               mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])
    /// Caffe's recipe: short side 256, centre crop 224, BGR in 0–255 minus (104, 117, 123).
    public static let caffe = Preprocessing(resizeShortSide: 256, roundsLongSide: true, crop: 224, grayscale: false, bgr: true,
                                            scale: 1, mean: [104, 117, 123], std: [1, 1, 1])
    /// MNIST: gray 28×28, 0–255.
    public static let mnist = Preprocessing(resizeTo: (28, 28), grayscale: true, bgr: false, scale: 1, mean: [0], std: [1])
    /// No resizing: RGB in [0, 1].
    public static let none = Preprocessing(grayscale: false, bgr: false, scale: 1 / 255, mean: [0, 0, 0], std: [1, 1, 1])

    public init(resizeShortSide: Int? = nil, roundsLongSide: Bool = false, resizeTo: (Int, Int)? = nil, crop: Int? = nil, grayscale: Bool, bgr: Bool,
                scale: Float, mean: [Float], std: [Float]) {
        self.resizeShortSide = resizeShortSide
        self.roundsLongSide = roundsLongSide
        self.resizeTo = resizeTo
        self.crop = crop
        self.grayscale = grayscale
        self.bgr = bgr
        self.scale = scale
        self.mean = mean
        self.std = std
    }

    public static func preset(named name: String) throws -> Preprocessing {
        switch name {
        case "imagenet": return .imagenet
        case "caffe": return .caffe
        case "mnist": return .mnist
        case "none": return .none
        default:
            throw CNNVizError(.invalidArgument, "unknown preprocessing preset '\(name)'; expected imagenet, caffe, mnist or none")
        }
    }

    /// The image as a [1, C, H, W] Float32 tensor.
    ///
    /// Throws for an aspect ratio beyond 64:1, which a short-side resize would blow up into a
    /// huge intermediate image (a 1×20000 strip would become 5,120,000×256).
    public func tensor(from image: RGBImage) throws -> Tensor {
        if resizeShortSide != nil && max(image.width, image.height) > 64 * min(image.width, image.height) {
            throw CNNVizError(.invalidArgument,
                              "image of \(image.width)×\(image.height) has an aspect ratio beyond 64:1; crop it before preprocessing")
        }
        var resized = image
        if let (w, h) = resizeTo {
            resized = ImageResampling.bilinear(image, width: w, height: h)
        } else if let side = resizeShortSide {
            let short = min(image.width, image.height), long = max(image.width, image.height)
            let scaledLong = roundsLongSide ? Int((Double(side * long) / Double(short)).rounded()) : side * long / short
            let (w, h) = image.width <= image.height ? (side, scaledLong) : (scaledLong, side)
            resized = ImageResampling.bilinear(image, width: w, height: h)
        }
        if let crop {
            resized = ImageResampling.centreCrop(resized, width: min(crop, resized.width), height: min(crop, resized.height))
        }
        let (w, h) = (resized.width, resized.height)
        let channels = grayscale ? 1 : 3
        var values = [Float](repeating: 0, count: channels * w * h)
        for y in 0..<h {
            for x in 0..<w {
                let p = (y * w + x) * 3
                let r = Float(resized.pixels[p]), g = Float(resized.pixels[p + 1]), b = Float(resized.pixels[p + 2])
                if grayscale {
                    // ITU-R 601 luma, as PIL's convert("L").
                    let luma = (r * 299 + g * 587 + b * 114) / 1000
                    values[y * w + x] = (luma * scale - mean[0]) / std[0]
                } else {
                    let ordered = bgr ? [b, g, r] : [r, g, b]
                    for c in 0..<3 { values[(c * h + y) * w + x] = (ordered[c] * scale - mean[c]) / std[c] }
                }
            }
        }
        return Tensor(shape: [1, channels, h, w], floats: values)
    }
}
