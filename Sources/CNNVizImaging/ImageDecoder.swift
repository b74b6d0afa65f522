import CNNVizRuntime
import Foundation

/// Decodes PNG (libpng) and JPEG (libjpeg-turbo) files into 8-bit RGB, upright and opaque.
///
/// - The format is told by the file's magic bytes, not its name: a `.png` holding JPEG data
///   decodes.
/// - The result matches Pillow's `ImageOps.exif_transpose(Image.open(f)).convert("RGB")`
///   (checked by `scripts/reference/decode_images.py`): exactly for PNG, within 2 levels for
///   JPEG. Alpha is composited onto white (see `PixelSamples`), and 16-bit samples keep their
///   high byte.
/// - The EXIF orientation (JPEG APP1, PNG eXIf) is undone (see `ExifOrientation`).
/// - CMYK JPEGs are converted as Pillow converts them (see `CMYKConversion`).
/// - A header that declares more than `limit` pixels is refused before anything is
///   allocated (see `ImageSizeLimit`).
/// - Errors are `CNNVizError`s located at the file: `.fileNotReadable`, `.corruptFile`
///   (empty, not an image, truncated, corrupt), `.limitExceeded`.
public enum ImageDecoder {
    public static func decode(contentsOf url: URL, limit: ImageSizeLimit = .default) throws -> RGBImage {
        InputProtection.protect([url])
        let data = try FileRead.data(contentsOf: url, what: "the image file")
        do { return try decode(data, limit: limit) } catch let error as CNNVizError { throw error.located(at: url.path) }
    }

    public static func decode(_ data: Data, limit: ImageSizeLimit = .default) throws -> RGBImage {
        let bytes = [UInt8](data)
        if bytes.hasBytes(PNGChunks.signature, at: 0) { return try decodePNG(bytes, limit: limit) }
        if bytes.hasBytes([0xFF, 0xD8, 0xFF], at: 0) { return try decodeJPEG(bytes, limit: limit) }
        guard !bytes.isEmpty else { throw CNNVizError(.corruptFile, "the image file is empty (0 bytes); expected a PNG or JPEG image") }
        let start = bytes.prefix(8)
        let hex = start.map { String(format: "%02x", $0) }.joined(separator: " ")
        let text = String(decoding: start.map { (32..<127).contains($0) ? $0 : UInt8(ascii: ".") }, as: UTF8.self)
        throw CNNVizError(.corruptFile, "not a PNG or JPEG image: expected the PNG signature 89 50 4e 47 0d 0a 1a 0a or the "
                          + "JPEG marker ff d8 ff, found \(hex) (\"\(text)\")")
    }
}
