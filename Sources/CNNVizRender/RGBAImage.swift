import CNNVizImaging

/// An 8-bit RGBA image, row-major, 4 bytes per pixel in R, G, B, A order, alpha not
/// premultiplied (as PNG stores it). Cairo wants premultiplied native-endian ARGB32;
/// `CairoCanvas` converts at the boundary, so nothing else sees that layout.
public struct RGBAImage: Hashable, Sendable {
    public var width: Int
    public var height: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width >= 0 && height >= 0, "negative size \(width)×\(height)")
        precondition(pixels.count == width * height * 4, "\(pixels.count) bytes for \(width)×\(height) RGBA")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// An opaque copy of an RGB image.
    public init(_ image: RGBImage) {
        var pixels = [UInt8](repeating: 255, count: image.width * image.height * 4)
        for index in 0..<(image.width * image.height) {
            pixels[4 * index] = image.pixels[3 * index]
            pixels[4 * index + 1] = image.pixels[3 * index + 1]
            pixels[4 * index + 2] = image.pixels[3 * index + 2]
        }
        self.init(width: image.width, height: image.height, pixels: pixels)
    }

    /// An image of one colour.
    public init(width: Int, height: Int, filledWith color: RGBColor, alpha: UInt8 = 255) {
        var pixels = [UInt8](repeating: 0, count: width * height * 4)
        for index in 0..<(width * height) {
            pixels[4 * index] = color.red
            pixels[4 * index + 1] = color.green
            pixels[4 * index + 2] = color.blue
            pixels[4 * index + 3] = alpha
        }
        self.init(width: width, height: height, pixels: pixels)
    }

    /// The pixel at column `x`, row `y`: (red, green, blue, alpha).
    public func pixel(x: Int, y: Int) -> (red: UInt8, green: UInt8, blue: UInt8, alpha: UInt8) {
        precondition(x >= 0 && x < width && y >= 0 && y < height, "pixel (\(x), \(y)) outside \(width)×\(height)")
        let offset = 4 * (y * width + x)
        return (pixels[offset], pixels[offset + 1], pixels[offset + 2], pixels[offset + 3])
    }

    /// The image composited over an opaque `background`: c = (α·c + (255 − α)·b) / 255, rounded.
    public func composited(over background: RGBColor = .white) -> RGBImage {
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        let backdrop = [Int(background.red), Int(background.green), Int(background.blue)]
        for index in 0..<(width * height) {
            let alpha = Int(pixels[4 * index + 3])
            for channel in 0..<3 {
                let value = alpha * Int(pixels[4 * index + channel]) + (255 - alpha) * backdrop[channel]
                rgb[3 * index + channel] = UInt8((value + 127) / 255)
            }
        }
        return RGBImage(width: width, height: height, pixels: rgb)
    }
}
