/// Draws a grid's title, tiles and labels where a `GridLayout` puts them.
///
/// Each tile gets a one-pixel frame just outside it, in the spacing, so that tiles whose
/// edge is white stay apart on the white background; the tile's own pixels are untouched.
enum GridPicture {
    static let frameColor = RGBColor(gray: 170)

    static func make(layout: GridLayout, title: String, titleSize: Double, tiles: [RGBAImage], labels: [String],
                     labelSize: Double, background: RGBColor) -> Picture {
        let titleWidth = Int(CairoCanvas.textWidth(title, size: titleSize).rounded(.up))
        let width = max(layout.width, 2 * layout.margin + titleWidth)
        var picture = Picture(width: width, height: layout.height, background: background)
        picture.add(.text(title, x: Double(layout.margin), y: Double(layout.margin) + titleSize, size: titleSize,
                          color: .black, anchor: .left))
        for (index, tile) in tiles.enumerated() {
            let origin = layout.origin(ofTile: index)
            if layout.spacing >= 2 {
                picture.add(.outline(Picture.Rect(x: Double(origin.x) - 0.5, y: Double(origin.y) - 0.5,
                                                  width: Double(layout.tileWidth + 1), height: Double(layout.tileHeight + 1)),
                                     stroke: frameColor, lineWidth: 1))
            }
            picture.add(.image(tile, frame: Picture.Rect(x: origin.x, y: origin.y,
                                                         width: layout.tileWidth, height: layout.tileHeight)))
            if index < labels.count, layout.labelHeight > 0 {
                let baseline = Double(origin.y + layout.tileHeight) + (Double(layout.labelHeight) + labelSize * 0.7) / 2
                picture.add(.text(labels[index], x: Double(origin.x) + Double(layout.tileWidth) / 2, y: baseline,
                                  size: labelSize, color: RGBColor(gray: 64), anchor: .center))
            }
        }
        return picture
    }
}
