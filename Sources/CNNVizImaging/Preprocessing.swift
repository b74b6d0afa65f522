import CNNVizRuntime

/// How an image becomes a model input: colour, resize, centre crop, scale, mean and std.
///
/// x[c] = (pixel[c]·scale − mean[c]) / std[c], laid out [1, C, H, W], after (in this order)
/// converting to gray if asked, resizing (`resize`, Pillow bilinear), centre-cropping (`crop`)
/// and ordering the channels RGB or BGR. Each field is one override of the command line:
/// `resize` ← `--size`, `crop` ← `--crop`, `mean` ← `--mean`, `std` ← `--std`,
/// `channels` ← `--bgr`, `scale` ← `--scale` (see `overridden(size:crop:mean:std:bgr:scale:)`).
/// Pitfall: `scale` applies to 0–255 pixel values, so torchvision's ToTensor is
/// scale = 1/255 and Caffe's raw pixels are scale = 1; mean and std are in the scaled units.
public struct Preprocessing: Sendable, Equatable {
    /// The preset it started from, for messages.
    public var name: String
    public var resize: Resize
    /// After a short-side resize the long side is ⌊side·long/short⌋ (torchvision) or, when set,
    /// rounded to nearest (the Caffe reference pipeline that SqueezeNet's labels were checked with).
    public var roundsLongSide: Bool
    /// The centred window kept after resizing; nil keeps the whole image.
    public var crop: ImageSize?
    public var channels: ChannelOrder
    public var scale: Float
    /// One value per channel, or one for all.
    public var mean: [Float]
    /// One value per channel, or one for all; none may be 0.
    public var std: [Float]

    public init(name: String = "custom", resize: Resize = .none, roundsLongSide: Bool = false, crop: ImageSize? = nil,
                channels: ChannelOrder = .rgb, scale: Float = 1.0 / 255, mean: [Float] = [0], std: [Float] = [1]) {
        self.name = name
        self.resize = resize
        self.roundsLongSide = roundsLongSide
        self.crop = crop
        self.channels = channels
        self.scale = scale
        self.mean = mean
        self.std = std
    }

    /// torchvision's ImageNet recipe: short side 256 (bilinear, antialiased), centre crop 224,
    /// RGB in [0, 1], mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225).
    public static let imagenet = Preprocessing(name: "imagenet", resize: .shortSide(256), crop: ImageSize(224), channels: .rgb,
                                               scale: 1.0 / 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])
    /// Caffe's recipe: the same resize (long side rounded) and crop, then BGR in 0–255 minus
    /// (104, 117, 123) in B, G, R order.
    public static let caffe = Preprocessing(name: "caffe", resize: .shortSide(256), roundsLongSide: true, crop: ImageSize(224),
                                            channels: .bgr, scale: 1, mean: [104, 117, 123], std: [1])
    /// MNIST: gray (Pillow's convert("L")), resized to exactly 28×28, 0–255.
    public static let mnist = Preprocessing(name: "mnist", resize: .exact(ImageSize(28)), channels: .gray, scale: 1, mean: [0], std: [1])
    /// CIFAR-10/100 models (32×32 RGB): the image resized to exactly 32×32, RGB in [0, 1],
    /// mean (0.4914, 0.4822, 0.4465), std (0.2470, 0.2435, 0.2616), the dataset's own
    /// statistics as most CIFAR training scripts normalise with them.
    public static let cifar = Preprocessing(name: "cifar", resize: .exact(ImageSize(32)), channels: .rgb, scale: 1.0 / 255,
                                            mean: [0.4914, 0.4822, 0.4465], std: [0.2470, 0.2435, 0.2616])
    /// Inception v3 and the TensorFlow/Keras family: torchvision's recipe for 299×299 (short
    /// side 342, centre crop 299), RGB scaled to [−1, 1] (mean 0.5, std 0.5 after ÷255).
    public static let inception = Preprocessing(name: "inception", resize: .shortSide(342), crop: ImageSize(299), channels: .rgb,
                                                scale: 1.0 / 255, mean: [0.5], std: [0.5])
    /// No resizing: RGB in [0, 1] at the image's own size.
    public static let none = Preprocessing(name: "none", channels: .rgb, scale: 1.0 / 255, mean: [0], std: [1])

    public static let presets: [Preprocessing] = [.imagenet, .caffe, .mnist, .cifar, .inception, .none]

    public static func preset(named name: String) throws -> Preprocessing {
        guard let preset = presets.first(where: { $0.name == name }) else {
            throw CNNVizError(.invalidArgument, "unknown preprocessing preset '\(name)'; expected one of "
                              + presets.map(\.name).joined(separator: ", "))
        }
        return preset
    }
}
