import CNNVizImaging
import CNNVizRuntime

/// An attribution drawn over the user's own photo instead of the model's cropped view.
///
/// The shown plane (see `MapStyle.shown`) is mapped back through the resize and crop
/// (`PreprocessingGeometry.toOriginal`), drawn over the photo with the same style, and the
/// photo's pixels the model never saw (outside the centre crop) show the photo alone, washed
/// out to 35 % of its contrast over light gray, so that no colour there reads as evidence.
/// Photos larger than `maximumSide` are drawn scaled down with their aspect kept (the map's
/// .npy stays at full size); the map is then sampled at each drawn pixel's centre.
public struct PhotoOverlay: Sendable {
    /// The shown plane at the photo's size, [H, W].
    public var map: Tensor
    /// The drawing, at the photo's size or scaled down to `maximumSide`.
    public var picture: RGBAImage

    public static let defaultMaximumSide = 1024

    public init(shown: Tensor, style: MapStyle, photo: RGBImage, geometry: PreprocessingGeometry,
                maximumSide: Int = PhotoOverlay.defaultMaximumSide) throws {
        guard photo.width == geometry.original.width, photo.height == geometry.original.height else {
            throw CNNVizError(.shapeMismatch, "the photo is \(photo.width)×\(photo.height) and the preprocessing geometry is for \(geometry.original)")
        }
        let mapped = try geometry.toOriginal(shown.floats)
        map = Tensor(shape: [photo.height, photo.width], floats: mapped)
        let scale = min(1, Double(maximumSide) / Double(max(photo.width, photo.height)))
        let width = max(1, Int((Double(photo.width) * scale).rounded())), height = max(1, Int((Double(photo.height) * scale).rounded()))
        let drawn = width == photo.width && height == photo.height ? photo : ImageResampling.bilinear(photo, width: width, height: height)
        func source(_ index: Int, _ drawnSize: Int, _ photoSize: Int) -> Int { min(photoSize - 1, (2 * index + 1) * photoSize / (2 * drawnSize)) }
        var sampled = [Float](repeating: 0, count: width * height)
        var seen = [Bool](repeating: false, count: width * height)
        for y in 0..<height {
            let sy = source(y, height, photo.height)
            for x in 0..<width {
                let sx = source(x, width, photo.width)
                sampled[y * width + x] = mapped[sy * photo.width + sx]
                seen[y * width + x] = geometry.seenColumns.contains(sx) && geometry.seenRows.contains(sy)
            }
        }
        var picture = try style.draw(Tensor(shape: [height, width], floats: sampled), on: drawn)
        PhotoOverlay.washOut(&picture, photo: drawn, outside: seen)
        self.picture = picture
    }

    /// p ← 0.35·photo + 0.65·225 (light gray), opaque, for every pixel not `seen`.
    static func washOut(_ image: inout RGBAImage, photo: RGBImage, outside seen: [Bool]) {
        for (index, wasSeen) in seen.enumerated() where !wasSeen {
            for channel in 0..<3 {
                let value = 0.35 * Double(photo.pixels[3 * index + channel]) + 0.65 * 225
                image.pixels[4 * index + channel] = UInt8(value.rounded())
            }
            image.pixels[4 * index + 3] = 255
        }
    }
}
