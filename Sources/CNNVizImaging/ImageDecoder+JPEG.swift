import CJPEG
import CNNVizRuntime

extension ImageDecoder {
    /// JPEG through TurboJPEG (libjpeg-turbo): baseline and progressive, gray, YCbCr and
    /// CMYK/YCCK, with the EXIF orientation undone afterwards.
    ///
    /// Decoded with libjpeg's defaults, as Pillow decodes: the accurate integer IDCT and
    /// "fancy" (smooth) chroma upsampling. Different libjpeg-turbo builds can still differ by
    /// a level or two, which is why the reference check allows 2. CMYK is converted as Pillow
    /// does (see `CMYKConversion`).
    static func decodeJPEG(_ bytes: [UInt8], limit: ImageSizeLimit) throws -> RGBImage {
        let markers = JPEGMarkers(bytes)
        guard let frame = markers.frame else {
            throw CNNVizError(.corruptFile, "the JPEG has no frame header (SOF) in its \(bytes.count) bytes: it is truncated or corrupt")
        }
        try limit.check(width: frame.width, height: frame.height, subject: "the JPEG frame header declares")
        guard frame.precision == 8 else {
            throw CNNVizError(.unsupportedDataType, "the JPEG has \(frame.precision)-bit samples; cnn-viz decodes 8-bit JPEGs only, as Pillow does")
        }
        guard markers.isComplete else {
            throw CNNVizError(.corruptFile, "the JPEG data is truncated: its \(bytes.count) bytes end before the end-of-image marker (FF D9)")
        }
        guard let handle = tjInitDecompress() else { throw CNNVizError(.corruptFile, "cannot start the JPEG decoder") }
        defer { tjDestroy(handle) }
        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colourspace: Int32 = 0
        let header = bytes.withUnsafeBufferPointer {
            tjDecompressHeader3(handle, $0.baseAddress, UInt($0.count), &width, &height, &subsampling, &colourspace)
        }
        guard header == 0 else { throw CNNVizError(.corruptFile, "cannot read the JPEG header (libjpeg-turbo: \(jpegMessage(handle)))") }
        try limit.check(width: Int(width), height: Int(height), subject: "the JPEG header declares")
        let isCMYK = colourspace == Int32(TJCS_CMYK.rawValue) || colourspace == Int32(TJCS_YCCK.rawValue)
        let channels = isCMYK ? 4 : 3
        var samples = [UInt8](repeating: 0, count: Int(width) * Int(height) * channels)
        let format = isCMYK ? TJPF_CMYK : TJPF_RGB
        let status = bytes.withUnsafeBufferPointer { source in
            samples.withUnsafeMutableBufferPointer { out in
                tjDecompress2(handle, source.baseAddress, UInt(source.count), out.baseAddress, width, 0, height, Int32(format.rawValue), 0)
            }
        }
        // A warning (e.g. junk bytes between segments) still yields the whole image, and the
        // truncation that libjpeg only warns about was refused above.
        if status != 0 && tjGetErrorCode(handle) == Int32(TJERR_FATAL.rawValue) {
            throw CNNVizError(.corruptFile, "the JPEG data is corrupt (libjpeg-turbo: \(jpegMessage(handle)))")
        }
        let image = isCMYK
            ? CMYKConversion.rgb(fromStoredCMYK: samples, width: Int(width), height: Int(height))
            : RGBImage(width: Int(width), height: Int(height), pixels: samples)
        return markers.orientation?.applied(to: image) ?? image
    }

    static func jpegMessage(_ handle: tjhandle) -> String {
        tjGetErrorStr2(handle).map { String(cString: $0) } ?? "unknown error"
    }
}
