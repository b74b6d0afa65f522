/// Input rows split into their stride phases, for direct convolutions.
///
/// A row padded by `pad` zeros on the left is stored as `stride` phases of `phaseLength`
/// floats each: phase p holds padded columns p, p + s, p + 2s, … So a kernel tap at padded
/// offset o reads output column i's input at phase o mod s, index i + ⌊o/s⌋: every tap of a
/// strided conv becomes a contiguous, in-bounds run, and the inner loops vectorise.
enum StridePhases {
    /// Writes row `source[0..<width]` into `destination` (stride · phaseLength floats that the
    /// caller zeroed once: positions never written stay zero and are the padding).
    @inline(__always)
    static func copyRow(_ source: UnsafePointer<Float>, width: Int, pad: Int, stride: Int, phaseLength: Int,
                        into destination: UnsafeMutablePointer<Float>) {
        if stride == 1 {
            (destination + pad).update(from: source, count: width)
            return
        }
        if stride == 2 {
            // Column j lands at padded column j + pad: even columns go to phase pad mod 2 and odd
            // columns to the other, from index ⌊pad/2⌋ (resp. ⌈pad/2⌉) on; 16 floats at a time.
            let evenTarget = destination + (pad % 2) * phaseLength + pad / 2
            let oddTarget = destination + ((pad + 1) % 2) * phaseLength + (pad + 1) / 2
            var i = 0
            while 2 * i + 16 <= width {
                let pair = source.simd16(2 * i)
                evenTarget.store(pair.evenHalf, at: i)
                oddTarget.store(pair.oddHalf, at: i)
                i += 8
            }
            while 2 * i < width {
                evenTarget[i] = source[2 * i]
                if 2 * i + 1 < width { oddTarget[i] = source[2 * i + 1] }
                i += 1
            }
            return
        }
        for phase in 0..<stride {
            let firstColumn = ((phase - pad) % stride + stride) % stride
            var column = firstColumn, index = (firstColumn + pad) / stride
            let target = destination + phase * phaseLength
            while column < width {
                target[index] = source[column]
                column &+= stride
                index &+= 1
            }
        }
    }
}
