import CNNVizRuntime
import CPNGReader

extension ImageDecoder {
    /// PNG through libpng's low-level reader (see `png_reader.h`): every bit depth, gray,
    /// gray+alpha, palette (with tRNS), RGB, RGBA and Adam7 interlacing.
    ///
    /// The samples are taken as stored, as Pillow does: no gamma (gAMA), sRGB or ICC
    /// correction. Pitfall: libpng's simplified API converts 16-bit data it assumes linear to
    /// sRGB, and otherwise rounds 16 to 8 bits, so it differs from Pillow (see `PixelSamples`).
    static func decodePNG(_ bytes: [UInt8], limit: ImageSizeLimit) throws -> RGBImage {
        let chunks = PNGChunks(bytes)
        guard let width = chunks.width, let height = chunks.height else {
            throw CNNVizError(.corruptFile, "the PNG has no readable IHDR header chunk (\(bytes.count) bytes): it is truncated or corrupt")
        }
        try limit.check(width: width, height: height, subject: "the PNG header declares")
        let image: RGBImage = try bytes.withUnsafeBufferPointer { source in
            var reader = cnnviz_png_reader()
            defer { cnnviz_png_end(&reader) }
            guard cnnviz_png_begin(&reader, source.baseAddress, source.count) == 0 else {
                throw CNNVizError(.corruptFile, "cannot read the PNG header (libpng: \(message(of: &reader)))")
            }
            guard Int(reader.width) == width, Int(reader.height) == height, (1...4).contains(reader.channels),
                  reader.bit_depth == 8 || reader.bit_depth == 16 else {
                throw CNNVizError(.corruptFile, "libpng reports \(reader.width)×\(reader.height) with \(reader.channels) channels of "
                                  + "\(reader.bit_depth) bits; expected \(width)×\(height), 1–4 channels of 8 or 16 bits")
            }
            let samples = PixelSamples(channels: Int(reader.channels), bitDepth: Int(reader.bit_depth))
            let rowBytes = width * samples.bytesPerPixel
            var buffer = [UInt8](repeating: 0, count: rowBytes * height)
            let status = buffer.withUnsafeMutableBytes { cnnviz_png_read(&reader, $0.baseAddress, rowBytes) }
            guard status == 0 else {
                throw CNNVizError(.corruptFile, "the PNG image data is truncated or corrupt (libpng: \(message(of: &reader)))")
            }
            return samples.rgbOnWhite(buffer, width: width, height: height)
        }
        return chunks.orientation?.applied(to: image) ?? image
    }

    static func message(of reader: inout cnnviz_png_reader) -> String {
        let text = withUnsafeBytes(of: &reader.message) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return text.isEmpty ? "no message" : text
    }
}
