/// A colour bar: the colormap as a strip with the values at its ends and middle.
///
/// The strip shows the 256 entries in order, each an equal share of the bar's length
/// (nearest-neighbour, so no entry is blended with the next). Vertical bars put the
/// maximum at the top, as matplotlib does.
public struct ColorBar: Sendable, Equatable {
    public enum Orientation: Sendable { case vertical, horizontal }

    public var colormap: Colormap
    /// The values at the two ends of the bar, e.g. 0 and 1 for a CAM, −1 and 1 for a signed map.
    public var range: ClosedRange<Float>
    public var orientation: Orientation
    /// How many evenly spaced labelled ticks, ends included (2 or more; 3 by default).
    public var tickCount: Int
    /// The bar's thickness in pixels.
    public var thickness: Int
    /// The tick labels' font size in pixels.
    public var fontSize: Double

    public init(colormap: Colormap, range: ClosedRange<Float> = 0...1, orientation: Orientation = .vertical,
                tickCount: Int = 3, thickness: Int = 14, fontSize: Double = 10) {
        precondition(tickCount >= 2, "a colour bar needs at least 2 ticks, not \(tickCount)")
        self.colormap = colormap
        self.range = range
        self.orientation = orientation
        self.tickCount = tickCount
        self.thickness = thickness
        self.fontSize = fontSize
    }

    /// The tick values, from the range's lower end to its upper end.
    public var ticks: [Float] {
        (0..<tickCount).map { range.lowerBound + (range.upperBound - range.lowerBound) * Float($0) / Float(tickCount - 1) }
    }

    /// The strip as an image: 1×256 (vertical, top = entry 255) or 256×1 (horizontal).
    public var strip: RGBAImage {
        var pixels = [UInt8](repeating: 255, count: 256 * 4)
        for position in 0..<256 {
            let entry = orientation == .vertical ? 255 - position : position
            for channel in 0..<3 { pixels[4 * position + channel] = colormap.table[3 * entry + channel] }
        }
        return orientation == .vertical
            ? RGBAImage(width: 1, height: 256, pixels: pixels) : RGBAImage(width: 256, height: 1, pixels: pixels)
    }

    /// The room the tick labels need beside (vertical) or below (horizontal) the bar.
    public var labelExtent: Double {
        switch orientation {
        case .vertical: return 4 + (ticks.map { CairoCanvas.textWidth(Caption.formatted($0), size: fontSize) }.max() ?? 0)
        case .horizontal: return 4 + fontSize * 1.2
        }
    }

    /// The elements that draw the bar with its strip in `frame` and its labels outside it
    /// (to the right of a vertical bar, below a horizontal one).
    public func elements(in frame: Picture.Rect, labelColor: RGBColor = .black) -> [Picture.Element] {
        var elements: [Picture.Element] = [
            .image(strip, frame: frame),
            .outline(frame, stroke: RGBColor(gray: 96), lineWidth: 1),
        ]
        for (index, value) in ticks.enumerated() {
            let fraction = Double(index) / Double(tickCount - 1)
            let label = Caption.formatted(value)
            switch orientation {
            case .vertical:
                let y = frame.y + frame.height * (1 - fraction)
                elements.append(.rectangle(Picture.Rect(x: frame.x + frame.width, y: y - 0.5, width: 3, height: 1),
                                           fill: labelColor))
                elements.append(.text(label, x: frame.x + frame.width + 4, y: y + fontSize * 0.35, size: fontSize,
                                      color: labelColor, anchor: .left))
            case .horizontal:
                let x = frame.x + frame.width * fraction
                let anchor: Picture.TextAnchor = index == 0 ? .left : index == tickCount - 1 ? .right : .center
                elements.append(.rectangle(Picture.Rect(x: x - 0.5, y: frame.y + frame.height, width: 1, height: 3),
                                           fill: labelColor))
                elements.append(.text(label, x: x, y: frame.y + frame.height + 3 + fontSize, size: fontSize,
                                      color: labelColor, anchor: anchor))
            }
        }
        return elements
    }
}
