import CNNVizImaging
import Foundation

/// The small pictures of a dataset's index page: at most `maximumSide` pixels on the longer
/// side, the aspect ratio kept (each side rounded, at least 1), never enlarged, resampled as
/// `ImageResampling.bilinear` does (Pillow's antialiased bilinear filter), written as PNG.
public enum Thumbnail {
    public static let maximumSide = 128

    public static func of(_ image: RGBImage, maximumSide: Int = Thumbnail.maximumSide) -> RGBImage {
        let longer = max(image.width, image.height)
        guard longer > maximumSide else { return image }
        let scale = Double(maximumSide) / Double(longer)
        return ImageResampling.bilinear(image, width: max(1, Int((Double(image.width) * scale).rounded())),
                                        height: max(1, Int((Double(image.height) * scale).rounded())))
    }

    /// Writes the thumbnail of `image` to `url` (atomically).
    public static func write(_ image: RGBImage, to url: URL) throws {
        try Picture(image: of(image)).write(to: url)
    }
}
