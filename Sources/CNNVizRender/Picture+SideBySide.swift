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
    /// Pictures side by side, left to right, each under its own caption lines (for example the
    /// same layer's filters at successive training checkpoints, captioned with the checkpoint
    /// and a measure). The result stays vector: the pictures' elements are moved, not
    /// rasterised, so PDF and SVG keep their text.
    public static func sideBySide(_ columns: [(caption: [String], picture: Picture)], captionSize: Double = 13,
                                  background: RGBColor = .white) -> Picture {
        let margin = 8.0, lineHeight = captionSize * 1.35
        let captionHeight = Double(columns.map(\.caption.count).max() ?? 0) * lineHeight + margin
        let widths = columns.map { column in
            Swift.max(Double(column.picture.width),
                      (column.caption.map { CairoCanvas.textWidth($0, size: captionSize) }.max() ?? 0) + 2 * margin)
        }
        let height = captionHeight + Double(columns.map(\.picture.height).max() ?? 0)
        var combined = Picture(width: Int(widths.reduce(0, +).rounded(.up)), height: Int(height.rounded(.up)), background: background)
        var left = 0.0
        for ((caption, picture), width) in zip(columns, widths) {
            for (line, text) in caption.enumerated() {
                combined.add(.text(text, x: left + width / 2, y: margin + lineHeight * Double(line) + captionSize, size: captionSize,
                                   color: .black, anchor: .center))
            }
            let offset = left + (width - Double(picture.width)) / 2
            for element in picture.elements { combined.add(element.offset(dx: offset, dy: captionHeight)) }
            left += width
        }
        return combined
    }
}
