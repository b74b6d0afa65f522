/// Fixed-width integers read out of file bytes, for the PNG chunk, JPEG marker and EXIF walkers.
///
/// Every read is bounds-checked and gives nil past the end, so a truncated header is an
/// answer ("not there"), never a crash.
extension Array where Element == UInt8 {
    func uint16(at offset: Int, bigEndian: Bool = true) -> Int? {
        guard offset >= 0, offset + 2 <= count else { return nil }
        let (a, b) = (Int(self[offset]), Int(self[offset + 1]))
        return bigEndian ? a << 8 | b : b << 8 | a
    }

    func uint32(at offset: Int, bigEndian: Bool = true) -> Int? {
        guard let high = uint16(at: bigEndian ? offset : offset + 2, bigEndian: bigEndian),
              let low = uint16(at: bigEndian ? offset + 2 : offset, bigEndian: bigEndian) else { return nil }
        return high << 16 | low
    }

    /// Whether the bytes at `offset` are exactly `prefix`.
    func hasBytes(_ prefix: [UInt8], at offset: Int) -> Bool {
        offset >= 0 && offset + prefix.count <= count && self[offset..<offset + prefix.count].elementsEqual(prefix)
    }
}
