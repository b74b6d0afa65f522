import CNNVizRuntime
import CPNGReader
import Foundation

/// PNG encoding through libpng, at a chosen zlib level.
///
/// Level 1 is the default for what cnn-viz draws: on a 1024-pixel photo overlay it deflates
/// several times faster than zlib's default level 6 (which Cairo's PNG writer uses) for files
/// about a tenth larger, and a dataset run writes two or three pictures per image.
/// Pitfall: the bytes depend on the libpng and zlib versions; compare decoded pixels, not
/// files, across machines.
public enum PNGEncoder {
    public static let defaultLevel: Int32 = 1

    /// 8-bit samples, `channels` 3 (RGB) or 4 (RGBA, alpha not premultiplied), row-major.
    public static func encode(pixels: [UInt8], width: Int, height: Int, channels: Int, level: Int32 = defaultLevel) throws -> Data {
        precondition(channels == 3 || channels == 4, "PNG rows of \(channels) channels")
        precondition(pixels.count == width * height * channels, "\(pixels.count) bytes for \(width)×\(height)×\(channels)")
        var buffer = cnnviz_png_buffer()
        let status = pixels.withUnsafeBufferPointer {
            cnnviz_png_write($0.baseAddress, UInt32(width), UInt32(height), UInt32(channels), level, &buffer)
        }
        guard status == 0 else {
            let message = withUnsafeBytes(of: buffer.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            throw CNNVizError(.writeFailed, "cannot encode a \(width)×\(height) PNG: \(message)")
        }
        defer { cnnviz_png_buffer_free(&buffer) }
        return Data(bytes: buffer.data, count: buffer.size)
    }

    public static func encode(_ image: RGBImage, level: Int32 = defaultLevel) throws -> Data {
        try encode(pixels: image.pixels, width: image.width, height: image.height, channels: 3, level: level)
    }
}
