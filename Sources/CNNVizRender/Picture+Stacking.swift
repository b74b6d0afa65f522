extension Picture.Element {
    /// The element moved by (dx, dy).
    func offset(dx: Double, dy: Double) -> Picture.Element {
        func moved(_ rect: Picture.Rect) -> Picture.Rect {
            Picture.Rect(x: rect.x + dx, y: rect.y + dy, width: rect.width, height: rect.height)
        }
        switch self {
        case .image(let image, let frame): return .image(image, frame: moved(frame))
        case .rectangle(let rect, let fill): return .rectangle(moved(rect), fill: fill)
        case .outline(let rect, let stroke, let lineWidth): return .outline(moved(rect), stroke: stroke, lineWidth: lineWidth)
        case .text(let string, let x, let y, let size, let color, let anchor):
            return .text(string, x: x + dx, y: y + dy, size: size, color: color, anchor: anchor)
        }
    }
}

extension Picture {
    /// Pictures one above the other, each with a label in a column on its left (for example
    /// the same layer's filters at successive training checkpoints). The result stays vector:
    /// the rows' elements are moved, not rasterised, so PDF and SVG keep their text.
    public static func stacked(_ rows: [(label: String, picture: Picture)], labelSize: Double = 13,
                               background: RGBColor = .white) -> Picture {
        let margin = 8.0
        let labelWidth = (rows.map { CairoCanvas.textWidth($0.label, size: labelSize) }.max() ?? 0) + 2 * margin
        let width = Int((labelWidth + Double(rows.map(\.picture.width).max() ?? 0)).rounded(.up))
        var stacked = Picture(width: width, height: rows.map(\.picture.height).reduce(0, +), background: background)
        var top = 0.0
        for (label, picture) in rows {
            stacked.add(.text(label, x: margin, y: top + Double(picture.height) / 2 + labelSize / 3, size: labelSize,
                              color: .black, anchor: .left))
            for element in picture.elements { stacked.add(element.offset(dx: labelWidth, dy: top)) }
            top += Double(picture.height)
        }
        return stacked
    }
}
