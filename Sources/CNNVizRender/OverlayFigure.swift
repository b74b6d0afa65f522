import CNNVizImaging

/// An overlay (or any image) with an optional caption above it and an optional colour bar
/// beside it, laid out on one picture.
///
/// Layout, in pixels: the caption's lines sit in a band at the top, `lineHeight` each; the
/// image is at (margin, margin + captionBand) scaled by `scale` with nearest-neighbour, so
/// its pixels reach the PNG unchanged; a vertical colour bar stands `gap` to the right of
/// the image, as tall as it, with its labels to its right (a horizontal one lies below).
public struct OverlayFigure: Sendable {
    public var picture: Picture
    /// Where the image landed.
    public var imageFrame: Picture.Rect

    public static let margin = 8
    public static let gap = 8
    public static let fontSize = 13.0
    public static let lineHeight = 18

    public init(image: RGBAImage, caption: Caption? = nil, colorBar: ColorBar? = nil, scale: Int = 1,
                background: RGBColor = .white) {
        precondition(scale >= 1, "scale must be at least 1, not \(scale)")
        let margin = OverlayFigure.margin, gap = OverlayFigure.gap
        let lines = caption?.lines ?? []
        let captionBand = lines.isEmpty ? 0 : lines.count * OverlayFigure.lineHeight + gap / 2
        let imageWidth = image.width * scale, imageHeight = image.height * scale
        let textWidth = lines.map { Int(CairoCanvas.textWidth($0, size: OverlayFigure.fontSize).rounded(.up)) }.max() ?? 0

        var width = margin + imageWidth + margin
        var height = margin + captionBand + imageHeight + margin
        var barFrame: Picture.Rect?
        if let colorBar {
            let extent = Int(colorBar.labelExtent.rounded(.up))
            switch colorBar.orientation {
            case .vertical:
                barFrame = Picture.Rect(x: margin + imageWidth + gap, y: margin + captionBand,
                                        width: colorBar.thickness, height: imageHeight)
                width += gap + colorBar.thickness + extent
            case .horizontal:
                barFrame = Picture.Rect(x: margin, y: margin + captionBand + imageHeight + gap,
                                        width: imageWidth, height: colorBar.thickness)
                height += gap + colorBar.thickness + extent
            }
        }
        width = max(width, margin + textWidth + margin)

        var picture = Picture(width: width, height: height, background: background)
        for (index, line) in lines.enumerated() {
            let baseline = Double(margin + index * OverlayFigure.lineHeight) + OverlayFigure.fontSize
            picture.add(.text(line, x: Double(margin), y: baseline, size: OverlayFigure.fontSize, color: .black, anchor: .left))
        }
        picture.addImage(image, x: margin, y: margin + captionBand, scale: scale)
        if let colorBar, let barFrame { picture.elements += colorBar.elements(in: barFrame) }
        self.picture = picture
        self.imageFrame = Picture.Rect(x: margin, y: margin + captionBand, width: imageWidth, height: imageHeight)
    }

    public init(image: RGBImage, caption: Caption? = nil, colorBar: ColorBar? = nil, scale: Int = 1,
                background: RGBColor = .white) {
        self.init(image: RGBAImage(image), caption: caption, colorBar: colorBar, scale: scale, background: background)
    }
}
