/// A width × height in pixels.
public struct ImageSize: Sendable, Hashable, CustomStringConvertible {
    public var width: Int
    public var height: Int

    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
    }

    /// A square.
    public init(_ side: Int) { self.init(width: side, height: side) }

    public var description: String { "\(width)×\(height)" }
}

extension Preprocessing {
    /// How the image is resized before the crop.
    public enum Resize: Sendable, Equatable, CustomStringConvertible {
        /// Keep the image's own size.
        case none
        /// The short side becomes `side` and the aspect ratio is kept, as torchvision's
        /// `Resize(int)`; see `roundsLongSide`.
        case shortSide(Int)
        /// Exactly this size, aspect ratio not kept, as torchvision's `Resize((h, w))`.
        case exact(ImageSize)

        public var description: String {
            switch self {
            case .none: "no resize"
            case .shortSide(let side): "resize the short side to \(side)"
            case .exact(let size): "resize to \(size)"
            }
        }
    }

    /// The colour channels, in tensor order.
    public enum ChannelOrder: String, Sendable, Equatable {
        case rgb, bgr
        /// One channel: Pillow's convert("L"), ITU-R 601 luma
        /// L = (19595·R + 38470·G + 7471·B + 2¹⁵) >> 16, rounded to 8 bits before resizing.
        case gray

        public var count: Int { self == .gray ? 1 : 3 }
    }
}

extension Preprocessing: CustomStringConvertible {
    /// E.g. "imagenet: resize the short side to 256, centre-crop 224×224, RGB × 0.003921569, mean [0.485, 0.456, 0.406], std [0.229, 0.224, 0.225]".
    public var description: String {
        var steps = [resize.description + (roundsLongSide && resize != .none ? " (long side rounded)" : "")]
        if let crop { steps.append("centre-crop \(crop)") }
        steps.append("\(channels.rawValue.uppercased()) × \(scale)")
        steps.append("mean \(mean)")
        steps.append("std \(std)")
        return "\(name): " + steps.joined(separator: ", ")
    }
}
