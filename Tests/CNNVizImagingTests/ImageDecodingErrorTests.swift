import CNNVizImaging
import CNNVizRuntime
import CNNVizTestSupport
import Foundation
import XCTest

/// Bad image files fail with a typed error that names the file and says what was expected and
/// found; valid extremes (1×1) decode and preprocess. Every file is made here, at run time.
final class ImageDecodingErrorTests: EngineTestCase {
    var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("cnn-viz-images-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: scratch) }

    func write(_ data: Data, _ name: String) throws -> URL {
        let url = scratch.appendingPathComponent(name)
        try data.write(to: url)
        return url
    }

    func expectError(_ code: CNNVizError.Code, _ url: URL, containing fragments: [String], limit: ImageSizeLimit = .default,
                     file: StaticString = #filePath, line: UInt = #line) {
        do {
            let image = try ImageDecoder.decode(contentsOf: url, limit: limit)
            XCTFail("expected a \(code) error, decoded \(image.width)×\(image.height)", file: file, line: line)
        } catch let error as CNNVizError {
            XCTAssertEqual(error.code, code, "\(error)", file: file, line: line)
            for fragment in fragments + [url.lastPathComponent] {
                XCTAssertTrue(error.description.contains(fragment), "'\(error)' should mention '\(fragment)'", file: file, line: line)
            }
        } catch {
            XCTFail("expected CNNVizError, got \(error)", file: file, line: line)
        }
    }

    func testTheFilesMadeHereAreValid() throws {
        let png = try ImageDecoder.decode(contentsOf: try write(TestImages.gradientPNG(width: 70, height: 50), "gradient.png"))
        XCTAssertEqual([png.width, png.height], [70, 50])
        XCTAssertEqual(Array(png.pixels[(49 * 70 + 69) * 3..<(49 * 70 + 69) * 3 + 3]), [69, 49, UInt8(69 * 49 % 256)])
        let jpeg = try ImageDecoder.decode(TestImages.smallJPEG)
        XCTAssertEqual([jpeg.width, jpeg.height], [16, 16])
        XCTAssertLessThanOrEqual(abs(Int(jpeg.pixels[(15 * 16 + 15) * 3]) - 240), 6, "R = 16x at x = 15")
    }

    func testTruncatedPNG() throws {
        let whole = TestImages.gradientPNG(width: 64, height: 64)
        expectError(.corruptFile, try write(whole.prefix(whole.count * 6 / 10), "cut-in-data.png"), containing: ["truncated"])
        expectError(.corruptFile, try write(whole.prefix(20), "cut-in-header.png"), containing: ["IHDR", "truncated"])
    }

    func testCorruptPNGData() throws {
        var bytes = [UInt8](TestImages.gradientPNG(width: 32, height: 32))
        bytes[60] ^= 0xFF  // inside IDAT: neither zlib's Adler-32 nor the chunk's CRC match
        expectError(.corruptFile, try write(Data(bytes), "bad-data.png"), containing: ["corrupt", "libpng: IDAT"])
    }

    func testTruncatedJPEG() throws {
        let whole = TestImages.smallJPEG
        expectError(.corruptFile, try write(whole.prefix(whole.count - 20), "cut-in-data.jpg"), containing: ["truncated", "FF D9"])
        expectError(.corruptFile, try write(whole.prefix(100), "cut-in-header.jpg"), containing: ["SOF", "truncated"])
        // Junk after the end-of-image marker is ignored, as libjpeg and Pillow ignore it.
        XCTAssertEqual(try ImageDecoder.decode(whole + Data("trailing junk".utf8)).width, 16)
    }

    func testTwelveBitJPEGIsRefused() throws {
        var jpeg = [UInt8](TestImages.smallJPEG)
        jpeg[162] = 12  // SOF0 sample precision
        expectError(.unsupportedDataType, try write(Data(jpeg), "twelve.jpg"), containing: ["12-bit samples", "8-bit JPEGs only"])
    }

    func testEmptyFileAndTextFile() throws {
        expectError(.corruptFile, try write(Data(), "empty.png"), containing: ["empty", "0 bytes"])
        expectError(.corruptFile, try write(Data("hello, I am a text file\n".utf8), "notes.jpg"),
                    containing: ["not a PNG or JPEG", "68 65 6c 6c 6f", "\"hello, I\""])
        expectError(.fileNotReadable, scratch.appendingPathComponent("missing.png"), containing: ["cannot read"])
    }

    /// 20000×20000 is 400 megapixels (1.6 GB as RGBA): refused from the 57-byte header,
    /// without allocating the image.
    func testHugeHeaderIsRefusedBeforeAllocating() throws {
        let header = TestImages.png(width: 20_000, height: 20_000, idat: false)
        XCTAssertLessThan(header.count, 64)
        let url = try write(header, "huge.png")
        let before = TestImages.peakResidentBytes()
        expectError(.limitExceeded, url, containing: ["20000×20000", "400.0 megapixels", "100 megapixels", "32768 pixels a side"])
        XCTAssertLessThan(TestImages.peakResidentBytes() - before, 64 << 20, "the peak resident set grew while refusing")

        expectError(.limitExceeded, try write(TestImages.png(width: 40_000, height: 10, idat: false), "wide.png"),
                    containing: ["40000×10", "32768 pixels a side"])
        var jpeg = [UInt8](TestImages.smallJPEG)
        jpeg.replaceSubrange(163..<167, with: [0xFD, 0xE8, 0xFD, 0xE8])  // SOF0 height and width: 65000
        expectError(.limitExceeded, try write(Data(jpeg), "huge.jpg"), containing: ["65000×65000", "JPEG frame header"])
        // A zero side is corrupt, not large.
        expectError(.corruptFile, try write(TestImages.png(width: 0, height: 5, idat: false), "zero.png"), containing: ["0×5"])
    }

    func testTheLimitIsAParameter() throws {
        let url = try write(TestImages.smallJPEG, "small.jpg")
        expectError(.limitExceeded, url, containing: ["16×16", "over the limit of 200 pixels"],
                    limit: ImageSizeLimit(maxPixels: 200, maxSide: 100))
        XCTAssertEqual(try ImageDecoder.decode(contentsOf: url, limit: ImageSizeLimit(maxPixels: 256, maxSide: 16)).width, 16)
    }

    /// A 1×1 image is valid: it decodes, and every preset makes its tensor from it.
    func testOnePixelImage() throws {
        let url = try write(TestImages.png(width: 1, height: 1, rows: [[200, 100, 50]]), "one.png")
        let image = try ImageDecoder.decode(contentsOf: url)
        XCTAssertEqual([image.width, image.height], [1, 1])
        XCTAssertEqual(image.pixels, [200, 100, 50])
        let rgb: [Float] = [200, 100, 50]
        let mean: [Float] = [0.485, 0.456, 0.406], std: [Float] = [0.229, 0.224, 0.225]
        let imagenet: [Float] = (0..<3).map { (rgb[$0] / 255 - mean[$0]) / std[$0] }
        let caffe: [Float] = [50 - 104, 100 - 117, 200 - 123]
        let luma = (19595 * 200 + 38470 * 100 + 7471 * 50 + 0x8000) >> 16
        let expectations: [(Preprocessing, [Int], [Float])] = [
            (.imagenet, [1, 3, 224, 224], imagenet),
            (.caffe, [1, 3, 224, 224], caffe),
            (.mnist, [1, 1, 28, 28], [Float(luma)]),
            (.none, [1, 3, 1, 1], rgb.map { $0 / 255 }),
        ]
        for (preset, shape, channelValues) in expectations {
            let tensor = try preset.tensor(from: image)
            XCTAssertEqual(tensor.shape, shape, preset.name)
            let plane = shape[2] * shape[3]
            for (c, expected) in channelValues.enumerated() {
                let values = tensor.floats[c * plane..<(c + 1) * plane]
                XCTAssertLessThanOrEqual(values.map { abs($0 - expected) }.max() ?? 1, 1e-5, "\(preset.name) channel \(c)")
            }
        }
    }

    /// A 1×100 strip resized so that its short side is 256 becomes 256×25 600 (allowed); a
    /// 1×300 strip would become 256×76 800, a side over the limit, refused by preprocessing.
    func testExtremeAspectRatioIsRefusedByPreprocessing() throws {
        let strip = RGBImage(width: 1, height: 100, pixels: [UInt8](repeating: 128, count: 300))
        XCTAssertEqual(try Preprocessing.imagenet.tensor(from: strip).shape, [1, 3, 224, 224])
        let long = RGBImage(width: 1, height: 300, pixels: [UInt8](repeating: 128, count: 900))
        XCTAssertThrowsError(try Preprocessing.imagenet.tensor(from: long)) { error in
            let error = error as? CNNVizError
            XCTAssertEqual(error?.code, .limitExceeded)
            for fragment in ["preprocessing 'imagenet'", "1×300 image into 256×76800 pixels", "32768 pixels a side", "crop the image"] {
                XCTAssertTrue(error?.description.contains(fragment) ?? false, "\(String(describing: error)) should mention \(fragment)")
            }
        }
    }
}
