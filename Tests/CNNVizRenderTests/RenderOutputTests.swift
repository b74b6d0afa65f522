import CNNVizImaging
import CNNVizRender
import CNNVizRuntime
import CNNVizTestSupport
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest

/// PNG, PDF and SVG through Cairo: the files exist, the PNG decodes (with cnn-viz's own
/// libpng decoder) to the drawn pixels, the PDF is a PDF, the SVG is XML; writes are atomic
/// and failures name the path.
final class RenderOutputTests: EngineTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("render-output-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    static func noise(width: Int, height: Int, seed: UInt64) -> RGBImage {
        var state = seed
        let pixels: [UInt8] = (0..<(width * height * 3)).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// The pixels of `image` inside `frame` of `rendered`, scaled back down by `scale`.
    func crop(_ rendered: RGBImage, x: Int, y: Int, width: Int, height: Int) -> [UInt8] {
        var pixels: [UInt8] = []
        for row in y..<(y + height) {
            let start = 3 * (row * rendered.width + x)
            pixels += rendered.pixels[start..<(start + 3 * width)]
        }
        return pixels
    }

    func testAllThreeFormatsAreWrittenAndReadBack() throws {
        let image = RenderOutputTests.noise(width: 29, height: 17, seed: 7)
        var picture = Picture(width: 60, height: 40, background: RGBColor(red: 10, green: 200, blue: 30))
        picture.addImage(image, x: 5, y: 3)
        picture.addImage(RenderOutputTests.noise(width: 3, height: 3, seed: 9), x: 40, y: 10, scale: 6)
        picture.add(.text("conv1 [64, 3, 7, 7]", x: 2, y: 38, size: 9, color: .black, anchor: .left))
        let base = directory.appendingPathComponent("figure")
        let written = try picture.write(to: base, formats: [.png, .pdf, .svg])
        XCTAssertEqual(written.map(\.lastPathComponent), ["figure.png", "figure.pdf", "figure.svg"])
        for url in written { XCTAssertTrue(FileManager.default.fileExists(atPath: url.path), url.path) }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted(),
                       ["figure.pdf", "figure.png", "figure.svg"], "no temporary files are left behind")

        let decoded = try ImageDecoder.decode(contentsOf: written[0])
        XCTAssertEqual(decoded.width, 60)
        XCTAssertEqual(decoded.height, 40)
        XCTAssertEqual(decoded.pixels, try picture.renderedRGB().pixels)
        XCTAssertEqual(crop(decoded, x: 5, y: 3, width: 29, height: 17), image.pixels, "an unscaled image is copied exactly")
        XCTAssertEqual(Array(decoded.pixels[0..<3]), [10, 200, 30])
        let small = RenderOutputTests.noise(width: 3, height: 3, seed: 9)
        for y in 0..<18 {
            for x in 0..<18 {
                let source = 3 * ((y / 6) * 3 + x / 6), target = 3 * ((10 + y) * 60 + 40 + x)
                XCTAssertEqual(Array(decoded.pixels[target..<(target + 3)]), Array(small.pixels[source..<(source + 3)]),
                               "nearest-neighbour ×6 at (\(x), \(y))")
            }
        }

        let pdf = try Data(contentsOf: written[1])
        XCTAssertEqual(String(decoding: pdf.prefix(5), as: UTF8.self), "%PDF-")
        XCTAssertTrue(String(decoding: pdf.suffix(8), as: UTF8.self).contains("%%EOF"))

        let svg = try Data(contentsOf: written[2])
        let parser = XMLParser(data: svg)
        let delegate = RootElement()
        parser.delegate = delegate
        XCTAssertTrue(parser.parse(), "SVG is not well-formed XML: \(String(describing: parser.parserError))")
        XCTAssertEqual(delegate.name, "svg")
        XCTAssertEqual(delegate.attributes["width"], "60px")
        XCTAssertEqual(delegate.attributes["image-rendering"], "optimizeSpeed", "images are marked nearest-neighbour")
    }

    func testFormatFromExtensionAndOverwrite() throws {
        let url = directory.appendingPathComponent("one.png")
        try Picture(image: RenderOutputTests.noise(width: 4, height: 4, seed: 1)).write(to: url)
        let second = RenderOutputTests.noise(width: 5, height: 2, seed: 2)
        try Picture(image: second).write(to: url)
        XCTAssertEqual(try ImageDecoder.decode(contentsOf: url).pixels, second.pixels)
        XCTAssertEqual(try Picture(image: second).write(to: directory.appendingPathComponent("two.svg"), formats: [.svg])
                        .map(\.lastPathComponent), ["two.svg"])
        XCTAssertThrowsError(try Picture(image: second).write(to: directory.appendingPathComponent("x.gif"))) {
            XCTAssertEqual(($0 as! CNNVizError).code, .writeFailed)
        }
    }

    func testWriteFailuresNameThePath() throws {
        let missing = directory.appendingPathComponent("no/such/dir/figure")
        for format in OutputFormat.allCases {
            XCTAssertThrowsError(try Picture(image: RenderOutputTests.noise(width: 2, height: 2, seed: 3))
                                    .write(to: missing, formats: [format])) {
                let error = $0 as! CNNVizError
                XCTAssertEqual(error.code, .writeFailed)
                XCTAssertEqual(error.location, missing.path + "." + format.rawValue)
            }
        }
        // A raster too large for Cairo fails as a write of that file, not a crash.
        XCTAssertThrowsError(try Picture(width: 40000, height: 2).write(to: directory.appendingPathComponent("big"), formats: [.png])) {
            let error = $0 as! CNNVizError
            XCTAssertEqual(error.code, .writeFailed)
            XCTAssertTrue(error.message.contains("40000×2"), error.message)
        }
    }

    /// Alpha survives PNG: Captum's alpha-scaling view is translucent where the map is small.
    func testTransparencyRoundTrips() throws {
        let pixels: [UInt8] = [255, 0, 0, 255, 0, 255, 0, 128, 0, 0, 255, 0, 40, 80, 120, 200]
        let image = RGBAImage(width: 2, height: 2, pixels: pixels)
        let rendered = try Picture(image: image).rendered()
        XCTAssertEqual(rendered.pixel(x: 0, y: 0).alpha, 255)
        XCTAssertEqual(rendered.pixel(x: 1, y: 1).alpha, 200)
        XCTAssertEqual(rendered.pixel(x: 0, y: 1).alpha, 0)
        for index in 0..<4 where pixels[4 * index + 3] > 0 {   // colour under alpha 0 is not kept
            for channel in 0..<4 {
                XCTAssertLessThanOrEqual(abs(Int(rendered.pixels[4 * index + channel]) - Int(pixels[4 * index + channel])), 1)
            }
        }
        let url = directory.appendingPathComponent("alpha.png")
        try Picture(image: image).write(to: url)
        XCTAssertEqual(try ImageDecoder.decode(contentsOf: url).pixels, rendered.composited(over: .white).pixels)
    }

    /// A CAM overlay with its caption and colour bar: the overlay's pixels reach the PNG
    /// unchanged in `imageFrame`, the bar shows the colormap's ends, and all formats write.
    func testOverlayFigureKeepsTheOverlayPixels() throws {
        let image = RenderOverlayTests.syntheticImage()
        let overlay = try Overlay.cam(RenderOverlayTests.syntheticMap(), on: image)
        let figure = OverlayFigure(image: overlay,
                                   caption: Caption(label: "281 tabby, tabby cat", score: 0.8734, method: "gradcam",
                                                    layer: "fire9/concat_1"),
                                   colorBar: ColorBar(colormap: .jet), scale: 2)
        XCTAssertEqual(Caption(label: "281 tabby", score: 0.8734, method: "gradcam", layer: "fire9/concat_1").lines,
                       ["281 tabby  score 0.873", "gradcam  @ fire9/concat_1"])
        let frame = figure.imageFrame
        XCTAssertEqual(frame, Picture.Rect(x: 8, y: 8 + 2 * 18 + 4, width: 74, height: 46))
        let rendered = try figure.picture.renderedRGB()
        for y in 0..<image.height {
            for x in 0..<image.width {
                let source = 3 * (y * image.width + x)
                let target = 3 * ((Int(frame.y) + 2 * y + 1) * rendered.width + Int(frame.x) + 2 * x + 1)
                XCTAssertEqual(Array(rendered.pixels[target..<(target + 3)]), Array(overlay.pixels[source..<(source + 3)]))
            }
        }
        // The bar, as tall as the image: row j samples strip row ⌊(j + 0.5)·256/46⌋, and the
        // strip has jet's last entry at the top (±1 entry where a row lands on a boundary).
        let barX = Int(frame.x + frame.width) + OverlayFigure.gap + 7
        for row in 2..<44 {
            let entry = 255 - Int((Double(row) + 0.5) * 256 / 46)
            let offset = 3 * ((Int(frame.y) + row) * rendered.width + barX)
            let drawn = RGBColor(red: rendered.pixels[offset], green: rendered.pixels[offset + 1], blue: rendered.pixels[offset + 2])
            let candidates = [entry - 1, entry, entry + 1].filter { (0..<256).contains($0) }.map { Colormap.jet.color(atIndex: $0) }
            XCTAssertTrue(candidates.contains(drawn), "bar row \(row): \(drawn), expected jet[\(entry)]")
        }
        let written = try figure.picture.write(to: directory.appendingPathComponent("cam"), formats: OutputFormat.allCases)
        XCTAssertEqual(written.count, 3)
    }
}

/// Records the root element of an XML document.
private final class RootElement: NSObject, XMLParserDelegate {
    var name: String?
    var attributes: [String: String] = [:]

    func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                qualifiedName: String?, attributes: [String: String] = [:]) {
        if name == nil {
            name = elementName
            self.attributes = attributes
        }
    }
}
