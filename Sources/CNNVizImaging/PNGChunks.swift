/// What cnn-viz reads from a PNG's chunk list itself, before libpng runs: the IHDR size (to
/// refuse a huge image before anything is allocated) and the eXIf chunk's orientation.
///
/// Layout: the 8-byte signature, then chunks of length u32 (big-endian), a 4-letter type, the
/// data and a CRC-32. IHDR comes first and starts with width u32, height u32. libpng checks
/// CRCs and everything else; a malformed list here only means "not found", and libpng then
/// names the fault.
struct PNGChunks {
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    var width: Int?
    var height: Int?
    /// From the first eXIf chunk, as Pillow reads it (gamma, ICC and XMP are ignored).
    var orientation: ExifOrientation?

    init(_ bytes: [UInt8]) {
        var offset = Self.signature.count
        while let length = bytes.uint32(at: offset), bytes.count >= offset + 8 {
            let type = String(decoding: bytes[offset + 4..<offset + 8], as: UTF8.self)
            let start = offset + 8, end = start + length
            if type == "IHDR", length >= 13, end <= bytes.count {
                width = bytes.uint32(at: start)
                height = bytes.uint32(at: start + 4)
            } else if type == "eXIf", orientation == nil, end <= bytes.count {
                var tiff = Array(bytes[start..<end])
                if tiff.hasBytes(Array("Exif\0\0".utf8), at: 0) { tiff.removeFirst(6) }  // a common writer mistake
                orientation = ExifOrientation(tiff: tiff)
            } else if type == "IEND" {
                break
            }
            offset = end + 4
        }
    }
}
