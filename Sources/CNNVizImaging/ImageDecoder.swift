import CJPEG
import CNNVizRuntime
import CPNG
import Foundation

/// Decodes PNG (through libpng) and JPEG (through libjpeg-turbo) files into RGB.
///
/// The format is told by the file's magic bytes, not its name, so a `.png` holding JPEG data
/// decodes. PNG: every bit depth, gray, palette, alpha and interlacing, through libpng's
/// simplified API; 16-bit samples are reduced to 8 bits. Alpha is composited onto white
/// (a transparent background reads as paper, not as black), which is the documented choice.
public enum ImageDecoder {
    public static func decode(contentsOf url: URL) throws -> RGBImage {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw CNNVizError(.fileNotReadable, "cannot read the image file", location: url.path, cause: error)
        }
        do { return try decode(data) } catch let error as CNNVizError { throw error.located(at: url.path) }
    }

    public static func decode(_ data: Data) throws -> RGBImage {
        let bytes = [UInt8](data.prefix(8))
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47]) { return try decodePNG(data) }
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return try decodeJPEG(data) }
        let shown = bytes.map { String(format: "%02x", $0) }.joined(separator: " ")
        throw CNNVizError(.corruptFile, "not a PNG or JPEG image: the file starts with bytes \(shown)")
    }

    static func decodePNG(_ data: Data) throws -> RGBImage {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        let began = data.withUnsafeBytes { png_image_begin_read_from_memory(&image, $0.baseAddress, $0.count) }
        guard began != 0 else { throw pngError(&image, "cannot read the PNG header") }
        defer { png_image_free(&image) }
        image.format = UInt32(PNG_FORMAT_FLAG_COLOR | PNG_FORMAT_FLAG_ALPHA)  // PNG_FORMAT_RGBA
        let width = Int(image.width), height = Int(image.height)
        guard width > 0, height > 0, width * height <= 1 << 28 else {
            throw CNNVizError(.corruptFile, "PNG size \(width)×\(height) is out of range")
        }
        var rgba = [UInt8](repeating: 0, count: width * height * 4)
        let finished = rgba.withUnsafeMutableBytes { buffer in
            png_image_finish_read(&image, nil, buffer.baseAddress, 0, nil)
        }
        guard finished != 0 else { throw pngError(&image, "the PNG data is truncated or corrupt") }
        return compositedOnWhite(rgba, width: width, height: height)
    }

    static func pngError(_ image: inout png_image, _ what: String) -> CNNVizError {
        let message = withUnsafeBytes(of: &image.message) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        return CNNVizError(.corruptFile, "\(what) (libpng: \(message))")
    }

    /// out = α·rgb + (1 − α)·255, rounded.
    static func compositedOnWhite(_ rgba: [UInt8], width: Int, height: Int) -> RGBImage {
        var rgb = [UInt8](repeating: 0, count: width * height * 3)
        for i in 0..<(width * height) {
            let alpha = Int(rgba[4 * i + 3])
            for c in 0..<3 {
                rgb[3 * i + c] = UInt8((Int(rgba[4 * i + c]) * alpha + 255 * (255 - alpha) + 127) / 255)
            }
        }
        return RGBImage(width: width, height: height, pixels: rgb)
    }

    static func decodeJPEG(_ data: Data) throws -> RGBImage {
        guard let handle = tjInitDecompress() else { throw CNNVizError(.corruptFile, "cannot start the JPEG decoder") }
        defer { tjDestroy(handle) }
        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
        let source = [UInt8](data)
        let header = source.withUnsafeBufferPointer {
            tjDecompressHeader3(handle, $0.baseAddress, UInt(source.count), &width, &height, &subsampling, &colorspace)
        }
        guard header == 0 else { throw CNNVizError(.corruptFile, "cannot read the JPEG header (libjpeg-turbo: \(jpegMessage(handle)))") }
        guard width > 0, height > 0, Int(width) * Int(height) <= 1 << 28 else {
            throw CNNVizError(.corruptFile, "JPEG size \(width)×\(height) is out of range")
        }
        var rgb = [UInt8](repeating: 0, count: Int(width) * Int(height) * 3)
        let status = source.withUnsafeBufferPointer { src in
            rgb.withUnsafeMutableBufferPointer { dst in
                tjDecompress2(handle, src.baseAddress, UInt(source.count), dst.baseAddress, width, 0, height,
                              Int32(TJPF_RGB.rawValue), 0)
            }
        }
        // A warning (e.g. extraneous bytes) still yields a full image; only errors fail.
        if status != 0 && tjGetErrorCode(handle) == Int32(TJERR_FATAL.rawValue) {
            throw CNNVizError(.corruptFile, "the JPEG data is truncated or corrupt (libjpeg-turbo: \(jpegMessage(handle)))")
        }
        return RGBImage(width: Int(width), height: Int(height), pixels: rgb)
    }

    static func jpegMessage(_ handle: tjhandle) -> String {
        tjGetErrorStr2(handle).map { String(cString: $0) } ?? "unknown error"
    }
}
