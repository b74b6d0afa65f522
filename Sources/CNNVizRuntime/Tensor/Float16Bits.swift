/// IEEE 754 half-precision conversion, bit-exact with round-to-nearest-even.
public enum Float16Bits {
    /// The Float32 value of a half-precision bit pattern.
    @inline(__always)
    public static func toFloat(_ bits: UInt16) -> Float {
        Float(Float16(bitPattern: bits))
    }

    /// The half-precision bit pattern nearest to `value` (ties to even; overflow to ±inf).
    @inline(__always)
    public static func fromFloat(_ value: Float) -> UInt16 {
        Float16(value).bitPattern
    }

    /// `value` rounded to the nearest half-precision value, as a Float32.
    @inline(__always)
    public static func rounded(_ value: Float) -> Float { Float(Float16(value)) }
}
