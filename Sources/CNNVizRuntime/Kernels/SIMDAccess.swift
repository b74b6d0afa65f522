/// Unaligned SIMD loads and stores of Float32 at a pointer, for hand-vectorised kernels.
extension UnsafePointer where Pointee == Float {
    @inline(__always) func simd8(_ offset: Int = 0) -> SIMD8<Float> {
        UnsafeRawPointer(self + offset).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inline(__always) func simd16(_ offset: Int = 0) -> SIMD16<Float> {
        UnsafeRawPointer(self + offset).loadUnaligned(as: SIMD16<Float>.self)
    }
}

extension UnsafeMutablePointer where Pointee == Float {
    @inline(__always) func simd8(_ offset: Int = 0) -> SIMD8<Float> { UnsafePointer(self).simd8(offset) }

    @inline(__always) func store(_ value: SIMD8<Float>, at offset: Int = 0) {
        UnsafeMutableRawPointer(self + offset).storeBytes(of: value, as: SIMD8<Float>.self)
    }

    @inline(__always) func store(_ value: SIMD16<Float>, at offset: Int = 0) {
        UnsafeMutableRawPointer(self + offset).storeBytes(of: value, as: SIMD16<Float>.self)
    }
}

extension SIMD8 where Scalar == Float {
    /// min(max(v, low), high) lane by lane, in two compare-and-blend steps (the standard
    /// library's pointwiseMin and pointwiseMax run lane by lane, out of line).
    @inline(__always) func clampedLanes(_ low: SIMD8<Float>, _ high: SIMD8<Float>) -> SIMD8<Float> {
        let raised = replacing(with: low, where: self .< low)
        return raised.replacing(with: high, where: raised .> high)
    }
}
