import CNNVizImaging
import CNNVizRuntime
import CNNVizTestSupport
import Foundation
import XCTest

/// cnn-viz's decoding against Pillow's (scripts/reference/decode_images.py): max |ours − Pillow|
/// is 0 for PNG and at most `jpegTolerance` for JPEG, on the shared photos and on one sample
/// of every format variant (scripts/reference/make_image_samples.py).
final class ImageReferenceTests: EngineTestCase {
    /// Two builds of libjpeg-turbo may round the IDCT or the upsampling differently.
    static let jpegTolerance = 2

    struct Manifest: Decodable {
        struct Entry: Decodable { var name: String; var source: String; var npy: String; var format: String; var mode: String }
        var images: [Entry]
    }

    func manifest(in directory: URL) throws -> Manifest {
        let url = try TestData.require(directory.appendingPathComponent("decoded/manifest.json"))
        return try JSONDecoder().decode(Manifest.self, from: Data(contentsOf: url))
    }

    /// Decodes each entry and compares; returns the max difference per file name.
    @discardableResult
    func compare(_ manifest: Manifest, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Int] {
        var differences = [String: Int]()
        for entry in manifest.images {
            let ours = try ImageDecoder.decode(contentsOf: URL(fileURLWithPath: entry.source))
            let theirs = try TestImages.image(npy: URL(fileURLWithPath: entry.npy))
            guard let difference = TestImages.maxDifference(ours, theirs) else {
                XCTFail("\(entry.name): cnn-viz decodes \(ours.width)×\(ours.height), Pillow \(theirs.width)×\(theirs.height)", file: file, line: line)
                continue
            }
            differences[entry.name] = difference
            let tolerance = entry.format == "PNG" ? 0 : Self.jpegTolerance
            XCTAssertLessThanOrEqual(difference, tolerance, "\(entry.name) (\(entry.format), Pillow mode \(entry.mode))", file: file, line: line)
        }
        print("max |cnn-viz − Pillow| per image:", differences.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        return differences
    }

    /// The photos in ../shared/data/images, decoded by `make test` into .build/reference.
    func testSharedImagesMatchPillow() throws {
        let manifest = try manifest(in: TestData.referenceDirectory)
        XCTAssertGreaterThanOrEqual(manifest.images.count, 11)
        try compare(manifest)
    }

    /// Every format variant: 1/2/8/16-bit gray, gray+alpha, palette (4/8-bit, tRNS), RGB, RGBA,
    /// interlaced, tRNS colour key, eXIf; baseline, progressive, gray, restart-marker and CMYK
    /// JPEG, EXIF orientations 1–8 in both byte orders.
    func testFormatSamplesMatchPillow() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cnn-viz-samples-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let samples = directory.appendingPathComponent("samples")
        try TestImages.runScript("make_image_samples.py", [samples.path])
        try TestImages.runScript("decode_images.py", [directory.path, "--images", samples.path])
        let manifest = try manifest(in: directory)
        let names = Set(manifest.images.map(\.name))
        let expected = ["png_gray1.png", "png_gray2.png", "png_gray8.png", "png_gray16.png", "png_gray_alpha8.png",
                        "png_gray_alpha16.png", "png_palette4.png", "png_palette8.png", "png_palette_trns.png", "png_rgb8.png",
                        "png_rgb16.png", "png_rgb_trns.png", "png_rgba8.png", "png_rgba16.png", "png_interlaced_rgb8.png",
                        "png_interlaced_rgba16.png", "png_interlaced_palette.png", "png_exif6.png", "jpeg_baseline_420.jpg",
                        "jpeg_baseline_422.jpg", "jpeg_baseline_444.jpg", "jpeg_progressive.jpg", "jpeg_progressive_gray.jpg",
                        "jpeg_gray.jpg", "jpeg_restart.jpg", "jpeg_cmyk.jpg", "jpeg_exif6_motorola.jpg"]
            + (1...8).map { "jpeg_exif\($0).jpg" }
        XCTAssertEqual(names, Set(expected))
        let differences = try compare(manifest)
        // The orientation really turned the picture: an upright decode would not match.
        let upright = try ImageDecoder.decode(contentsOf: samples.appendingPathComponent("jpeg_exif1.jpg"))
        let turned = try ImageDecoder.decode(contentsOf: samples.appendingPathComponent("jpeg_exif6.jpg"))
        XCTAssertEqual([turned.width, turned.height], [upright.height, upright.width])
        XCTAssertEqual(differences.count, expected.count)
    }

    /// The orientation table in closed form on a 3×2 image whose pixels are numbered.
    func testExifOrientationsInClosedForm() {
        let image = RGBImage(width: 3, height: 2, pixels: (0..<6).flatMap { [UInt8($0), 0, 0] })
        func numbers(_ o: ExifOrientation) -> [[UInt8]] {
            let turned = o.applied(to: image)
            return (0..<turned.height).map { y in (0..<turned.width).map { turned.pixels[(y * turned.width + $0) * 3] } }
        }
        // Stored:  0 1 2
        //          3 4 5
        XCTAssertEqual(numbers(.upright), [[0, 1, 2], [3, 4, 5]])
        XCTAssertEqual(numbers(.flipLeftRight), [[2, 1, 0], [5, 4, 3]])
        XCTAssertEqual(numbers(.rotate180), [[5, 4, 3], [2, 1, 0]])
        XCTAssertEqual(numbers(.flipTopBottom), [[3, 4, 5], [0, 1, 2]])
        XCTAssertEqual(numbers(.transpose), [[0, 3], [1, 4], [2, 5]])
        XCTAssertEqual(numbers(.rotate90Clockwise), [[3, 0], [4, 1], [5, 2]])
        XCTAssertEqual(numbers(.transverse), [[5, 2], [4, 1], [3, 0]])
        XCTAssertEqual(numbers(.rotate90Anticlockwise), [[2, 5], [1, 4], [0, 3]])
    }

    func testExifParsingOfBothByteOrdersAndBadValues() {
        func tiff(_ value: Int, bigEndian: Bool, type: Int = 3) -> [UInt8] {
            func u16(_ v: Int) -> [UInt8] { bigEndian ? [UInt8(v >> 8), UInt8(v & 0xFF)] : [UInt8(v & 0xFF), UInt8(v >> 8)] }
            func u32(_ v: Int) -> [UInt8] { bigEndian ? u16(v >> 16) + u16(v & 0xFFFF) : u16(v & 0xFFFF) + u16(v >> 16) }
            return (bigEndian ? [0x4D, 0x4D] : [0x49, 0x49]) + u16(42) + u32(8) + u16(1)
                + u16(0x0112) + u16(type) + u32(1) + (type == 3 ? u16(value) + u16(0) : u32(value)) + u32(0)
        }
        for value in 1...8 {
            XCTAssertEqual(ExifOrientation(tiff: tiff(value, bigEndian: false))?.rawValue, value)
            XCTAssertEqual(ExifOrientation(tiff: tiff(value, bigEndian: true))?.rawValue, value)
        }
        XCTAssertEqual(ExifOrientation(tiff: tiff(6, bigEndian: true, type: 4)), .rotate90Clockwise)
        XCTAssertNil(ExifOrientation(tiff: tiff(0, bigEndian: false)))
        XCTAssertNil(ExifOrientation(tiff: tiff(9, bigEndian: true)))
        XCTAssertNil(ExifOrientation(tiff: Array(tiff(6, bigEndian: false).prefix(12))), "a truncated IFD")
        XCTAssertNil(ExifOrientation(tiff: Array("not a TIFF".utf8)))
    }
}
