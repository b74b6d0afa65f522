/// What cnn-viz reads from a JPEG's marker segments itself: the frame size (to refuse a huge
/// image before anything is allocated), the EXIF orientation, and whether the data reaches
/// its end-of-image marker.
///
/// Layout: SOI (FF D8), then segments FF xx with a big-endian u16 length that counts itself;
/// after each SOS (FF DA) header comes entropy-coded data, in which FF is followed by 00
/// (a stuffed byte) or D0–D7 (a restart marker), until the next real marker. The last marker
/// is EOI (FF D9). Fill bytes (repeated FF) and junk between segments are skipped, as libjpeg
/// does.
/// Pitfall: libjpeg-turbo decodes a truncated file with only a warning ("Premature end of
/// JPEG file") and paints the missing rows gray; cnn-viz refuses a JPEG whose data ends
/// before EOI instead, as Pillow does ("image file is truncated").
struct JPEGMarkers {
    struct Frame { var width: Int; var height: Int; var precision: Int }

    var frame: Frame?
    /// From the first APP1 segment that starts "Exif\0\0".
    var orientation: ExifOrientation?
    /// Whether the data reaches its EOI marker.
    var isComplete = false

    init(_ bytes: [UInt8]) {
        var offset = 2
        while offset + 1 < bytes.count {
            guard bytes[offset] == 0xFF else { offset += 1; continue }  // junk between segments
            let marker = bytes[offset + 1]
            switch marker {
            case 0xFF: offset += 1  // fill byte
            case 0xD9: isComplete = true; return
            case 0x01, 0xD0...0xD7: offset += 2  // standalone markers
            default:
                guard let length = bytes.uint16(at: offset + 2), length >= 2, offset + 2 + length <= bytes.count else { return }
                let payload = offset + 4, end = offset + 2 + length
                if (0xC0...0xCF).contains(marker), ![0xC4, 0xC8, 0xCC].contains(marker), length >= 8 {
                    frame = frame ?? Frame(width: bytes.uint16(at: payload + 3) ?? 0, height: bytes.uint16(at: payload + 1) ?? 0,
                                           precision: Int(bytes[payload]))
                } else if marker == 0xE1, orientation == nil, bytes.hasBytes(Array("Exif\0\0".utf8), at: payload) {
                    orientation = ExifOrientation(tiff: Array(bytes[payload + 6..<end]))
                }
                offset = marker == 0xDA ? Self.endOfEntropyCodedData(bytes, from: end) : end
            }
        }
    }

    /// The offset of the first marker after entropy-coded data, or the data's end.
    static func endOfEntropyCodedData(_ bytes: [UInt8], from start: Int) -> Int {
        var offset = start
        while offset + 1 < bytes.count {
            if bytes[offset] == 0xFF {
                let next = bytes[offset + 1]
                if next != 0x00 && next != 0xFF && !(0xD0...0xD7).contains(next) { return offset }
            }
            offset += 1
        }
        return bytes.count
    }
}
