import CNNVizAttribution
import CNNVizImaging
import CNNVizRender
import CNNVizRuntime
import Foundation

/// The channel report: per channel, one row with the optimised image (what the channel wants
/// to see), the receptive field's size, and the real images' crops that excite it most with
/// their activations (`ChannelExamples`), as a self-contained HTML page and as one PNG.
///
/// Pitfall: the optimised image's objective is the channel's mean over all positions, the
/// examples' values are single positions' maxima; the two measure different things and are
/// not compared on the page.
public struct ChannelReport {
    public struct Row {
        public var title: String
        /// The optimised image, 8-bit.
        public var image: RGBImage
        public var objective: Float
        public var examples: [ChannelExamples.Example]

        public init(title: String, image: RGBImage, objective: Float, examples: [ChannelExamples.Example]) {
            self.title = title
            self.image = image
            self.objective = objective
            self.examples = examples
        }
    }

    public var model: String
    public var layer: String
    public var rows: [Row]
    /// The layer's receptive field in the model's input pixels, if it has one.
    public var field: ReceptiveField?
    /// Crops are drawn in squares of this many pixels (aspect ratio kept).
    public var tile = 96

    public init(model: String, layer: String, rows: [Row], field: ReceptiveField?) {
        self.model = model
        self.layer = layer
        self.rows = rows
        self.field = field
    }

    /// "51×51 px" or "global", for captions.
    public var fieldDescription: String {
        guard let field else { return "unknown" }
        if field.isGlobal { return "the whole image" }
        return field.axes.map { ReceptiveField.format($0.size) }.joined(separator: "×") + " px" + (field.isApproximate ? " (approximate)" : "")
    }

    /// A crop of the photo, scaled to fit the tile; photos are decoded once per report.
    func crops(cache: inout [String: RGBImage]) throws -> [[RGBImage]] {
        try rows.map { row in
            try row.examples.map { example in
                if cache[example.image] == nil { cache[example.image] = try ImageDecoder.decode(contentsOf: URL(fileURLWithPath: example.image)) }
                return Self.crop(cache[example.image]!, box: example.box, fitting: tile)
            }
        }
    }

    static func crop(_ image: RGBImage, box: [Int], fitting tile: Int) -> RGBImage {
        let (x0, y0) = (max(0, box[0]), max(0, box[1]))
        let (x1, y1) = (max(x0 + 1, min(image.width, box[2])), max(y0 + 1, min(image.height, box[3])))
        var pixels = [UInt8]()
        pixels.reserveCapacity(3 * (x1 - x0) * (y1 - y0))
        for y in y0..<y1 { pixels += image.pixels[(3 * (y * image.width + x0))..<(3 * (y * image.width + x1))] }
        let cropped = RGBImage(width: x1 - x0, height: y1 - y0, pixels: pixels)
        let scale = Double(tile) / Double(max(cropped.width, cropped.height))
        return ImageResampling.bilinear(cropped, width: max(1, Int((Double(cropped.width) * scale).rounded())),
                                        height: max(1, Int((Double(cropped.height) * scale).rounded())))
    }

    /// One row per channel: the optimised image, then its crops, captions beneath.
    public func picture() throws -> Picture {
        var cache = [String: RGBImage]()
        let crops = try crops(cache: &cache)
        let gap = 6, captionHeight = 16
        let columns = 1 + (rows.map(\.examples.count).max() ?? 0)
        let rowHeight = tile + captionHeight + gap
        var picture = Picture(width: gap + columns * (tile + gap), height: gap + rows.count * rowHeight)
        let ink = RGBColor(gray: 30)
        for (index, row) in rows.enumerated() {
            let y = gap + index * rowHeight
            let side = max(row.image.width, row.image.height)
            picture.addImage(ImageResampling.bilinear(row.image, width: tile * row.image.width / side, height: tile * row.image.height / side), x: gap, y: y)
            picture.add(.text(row.title + String(format: " (%.3g)", row.objective), x: Double(gap + tile / 2), y: Double(y + tile + 12), size: 10, color: ink, anchor: .center))
            for (k, crop) in crops[index].enumerated() {
                let x = gap + (k + 1) * (tile + gap)
                picture.addImage(crop, x: x + (tile - crop.width) / 2, y: y + (tile - crop.height) / 2)
                picture.add(.text(String(format: "%.3g", row.examples[k].value), x: Double(x + tile / 2), y: Double(y + tile + 12), size: 10, color: ink, anchor: .center))
            }
        }
        return picture
    }

    /// The HTML page.
    public func document() throws -> HTMLDocument {
        var cache = [String: RGBImage]()
        let crops = try crops(cache: &cache)
        var document = HTMLDocument(title: "Channels of \(layer)")
        let examples = rows.contains { !$0.examples.isEmpty }
        document.addSection("About", body: "<p>" + HTMLDocument.escape(
            "\(URL(fileURLWithPath: model).lastPathComponent), layer \(layer), receptive field \(fieldDescription). Left: the image optimised to maximise each channel's mean activation "
            + "(value in brackets)." + (examples ? " Right: the real images whose strongest position excites the channel most, cropped to that position's receptive field, with the activation there." : "")) + "</p>")
        var body = ""
        for (index, row) in rows.enumerated() {
            let scale = max(1, 192 / max(row.image.width, row.image.height))
            var picture = Picture(width: row.image.width * scale, height: row.image.height * scale)
            picture.addImage(row.image, x: 0, y: 0, scale: scale)
            var cells = [HTMLDocument.figure(png: try picture.encoded(as: .png), caption: row.title + String(format: ": objective %.4g", row.objective))]
            for (k, crop) in crops[index].enumerated() {
                let example = row.examples[k]
                let name = URL(fileURLWithPath: example.image).lastPathComponent
                cells.append(HTMLDocument.figure(png: try PNGEncoder.encode(crop), caption: String(format: "%.4g", example.value) + " · \(name) (\(example.row), \(example.column))"))
            }
            body += "<div class=\"channel\"><h3>\(HTMLDocument.escape(row.title))</h3>\(cells.joined())</div>\n"
        }
        document.addSection("Channels", body: body)
        return document
    }
}
