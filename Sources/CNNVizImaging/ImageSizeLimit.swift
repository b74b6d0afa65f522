import CNNVizRuntime

/// The largest image that the decoders accept, checked against the size that the file's
/// header declares before any pixel memory is allocated.
///
/// Default: 100 megapixels (10⁸ pixels, 300 MB as 8-bit RGB and up to 800 MB of 16-bit RGBA
/// samples while a PNG decodes) and 32 768 pixels a side.
/// Pitfall: a PNG of a few dozen bytes can declare 20 000 × 20 000 pixels (1.6 GB as RGBA),
/// or a JPEG 65 535 × 65 535; checking after allocating would be too late.
public struct ImageSizeLimit: Sendable, Equatable {
    public var maxPixels: Int
    public var maxSide: Int

    public init(maxPixels: Int, maxSide: Int) {
        self.maxPixels = maxPixels
        self.maxSide = maxSide
    }

    public static let `default` = ImageSizeLimit(maxPixels: 100_000_000, maxSide: 32_768)

    /// Throws `.corruptFile` for an empty side and `.limitExceeded` for a size over the limit.
    /// The message reads "\(subject) W×H pixels (… megapixels), over the limit of …; \(remedy)",
    /// e.g. subject "the PNG header declares".
    public func check(width: Int, height: Int, subject: String,
                      remedy: String = "refused before decoding. Pass a larger ImageSizeLimit to decode it, or downscale the file first") throws {
        guard width > 0, height > 0 else {
            throw CNNVizError(.corruptFile, "\(subject) \(width)×\(height) pixels; an image needs at least 1×1")
        }
        let pixels = width.multipliedReportingOverflow(by: height)
        guard width <= maxSide, height <= maxSide, !pixels.overflow, pixels.partialValue <= maxPixels else {
            let megapixels = Double(width) * Double(height) / 1e6
            throw CNNVizError(
                .limitExceeded,
                "\(subject) \(width)×\(height) pixels (\(String(format: "%.1f", megapixels)) megapixels), over the limit of "
                    + "\(Self.describe(maxPixels)) and \(maxSide) pixels a side; \(remedy)")
        }
    }

    static func describe(_ pixels: Int) -> String {
        pixels % 1_000_000 == 0 ? "\(pixels / 1_000_000) megapixels" : "\(pixels) pixels"
    }
}
