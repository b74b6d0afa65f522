import CNNVizImaging
import CNNVizRuntime
import Foundation
import XCTest

/// Image files made in the test itself: a PNG writer (stored deflate blocks, so any byte can
/// be cut or patched predictably), a small JPEG, and the Python reference scripts.
public enum TestImages {
    /// A 16×16 RGB baseline JPEG (4:2:0, quality 90) written by Pillow from the gradient
    /// R = 16x, G = 16y, B = 8(x + y). Its SOF0 segment starts at byte 158 (FF C0 00 11 08 H H W W).
    public static let smallJPEG = Data(base64Encoded: """
    /9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAMCAgMCAgMDAwMEAwMEBQgFBQQEBQoHBwYIDAoMDAsKCwsNDhIQDQ4RDgsLEBYQERMUFRUVDA8XGBYUGBIUFRT/2wBDAQMEBAUEBQkFBQkUDQsNFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBT/wAARCAAQABADASIAAhEBAxEB/8QAHwAAAQUBAQEBAQEAAAAAAAAAAAECAwQFBgcICQoL/8QAtRAAAgEDAwIEAwUFBAQAAAF9AQIDAAQRBRIhMUEGE1FhByJxFDKBkaEII0KxwRVS0fAkM2JyggkKFhcYGRolJicoKSo0NTY3ODk6Q0RFRkdISUpTVFVWV1hZWmNkZWZnaGlqc3R1dnd4eXqDhIWGh4iJipKTlJWWl5iZmqKjpKWmp6ipqrKztLW2t7i5usLDxMXGx8jJytLT1NXW19jZ2uHi4+Tl5ufo6erx8vP09fb3+Pn6/8QAHwEAAwEBAQEBAQEBAQAAAAAAAAECAwQFBgcICQoL/8QAtREAAgECBAQDBAcFBAQAAQJ3AAECAxEEBSExBhJBUQdhcRMiMoEIFEKRobHBCSMzUvAVYnLRChYkNOEl8RcYGRomJygpKjU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6goOEhYaHiImKkpOUlZaXmJmaoqOkpaanqKmqsrO0tba3uLm6wsPExcbHyMnK0tPU1dbX2Nna4uPk5ebn6Onq8vP09fb3+Pn6/9oADAMBAAIRAxEAPwD4/wDBfwh/1f7j9K958F/CH/V/uP0r2PwX8If9X+4/SvefBfwh/wBX+4/SjB4zbUPDzxD+D3z/2Q==
    """.replacingOccurrences(of: "\n", with: ""))!

    /// A PNG of `rows` (samples without filter bytes) with the given IHDR; `idat: false`
    /// leaves out the image data, for a header that only declares a size.
    public static func png(width: Int, height: Int, bitDepth: UInt8 = 8, colourType: UInt8 = 2, rows: [[UInt8]] = [], idat: Bool = true) -> Data {
        var file: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        file += chunk("IHDR", bigEndian(width) + bigEndian(height) + [bitDepth, colourType, 0, 0, 0])
        if idat { file += chunk("IDAT", zlibStored(rows.flatMap { [0] + $0 })) }
        file += chunk("IEND", [])
        return Data(file)
    }

    /// An RGB PNG of a gradient, width×height.
    public static func gradientPNG(width: Int, height: Int) -> Data {
        var rows = [[UInt8]]()
        for y in 0..<height {
            var row = [UInt8]()
            for x in 0..<width { row += [UInt8(x % 256), UInt8(y % 256), UInt8((x * y) % 256)] }
            rows.append(row)
        }
        return png(width: width, height: height, rows: rows)
    }

    public static func bigEndian(_ value: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) } }

    public static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        return bigEndian(data.count) + body + bigEndian(Int(crc32(body)))
    }

    /// zlib with uncompressed ("stored") deflate blocks of at most 65 535 bytes.
    public static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]
        var start = 0
        repeat {
            let end = min(data.count, start + 65_535), count = end - start
            out += [end == data.count ? 1 : 0, UInt8(count & 0xFF), UInt8(count >> 8), UInt8(~count & 0xFF), UInt8((~count >> 8) & 0xFF)]
            out += data[start..<end]
            start = end
        } while start < data.count
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in data { a = (a + UInt32(byte)) % 65_521; b = (b + a) % 65_521 }
        return out + bigEndian(Int(b << 16 | a))
    }

    public static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    /// An [H, W, 3] uint8 .npy as an image.
    public static func image(npy url: URL) throws -> RGBImage {
        let tensor = try NumpyFile.read(contentsOf: url)
        XCTAssertEqual(tensor.shape.count, 3, url.path)
        return RGBImage(width: tensor.shape[1], height: tensor.shape[0], pixels: tensor.integers.map { UInt8($0) })
    }

    /// Runs scripts/reference/NAME with `arguments`, through TestData.python (skips without python3 and Pillow).
    public static func runScript(_ name: String, _ arguments: [String]) throws {
        let script = TestData.repositoryRoot.appendingPathComponent("scripts/reference/\(name)").path
        let argv = ([script] + arguments).map { "'\($0)'" }.joined(separator: ", ")
        _ = try TestData.python("import runpy, sys\nsys.argv = [\(argv)]\nrunpy.run_path('\(script)', run_name='__main__')",
                                modules: ["numpy", "PIL"])
    }

    /// The largest resident set this process has had so far, in bytes.
    public static func peakResidentBytes() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss * 1024
    }

    /// max |a − b| over two images of the same size, or nil when the sizes differ.
    public static func maxDifference(_ a: RGBImage, _ b: RGBImage) -> Int? {
        guard a.width == b.width, a.height == b.height else { return nil }
        return zip(a.pixels, b.pixels).map { abs(Int($0) - Int($1)) }.max() ?? 0
    }
}
