/// eˣ and the logistic function in straight-line arithmetic that LLVM vectorises, for the
/// activations that dominate YOLO-style models (SiLU = x·σ(x) on every conv output).
///
/// eˣ = 2ⁿ·eʳ with n = round(x/ln 2) (the 1.5·2²³ trick rounds to nearest) and r = x − n·ln 2
/// (ln 2 split in two constants so that n·ln 2 is exact), eʳ by Cephes expf's degree-6
/// polynomial, 2ⁿ by writing the exponent bits. Relative error about 2 ulp. Pitfall: x is
/// clamped to [−87.3, 88.3] first, so that 2ⁿ stays a normal float; σ(x) = 1/(1 + e⁻ˣ) is then 1
/// or ~1e-38 at the ends, as it should be. No libm call, no branch: the loop vectorises,
/// where calling expf per element (or Swift's generic SIMD rounding) does not.
@inline(__always)
func fastExponential(_ value: Float) -> Float {
    let x = value < -87.3 ? -87.3 : (value > 88.3 ? 88.3 : value)
    let magic: Float = 12_582_912  // 1.5·2²³
    let n = (x * 1.442_695_04 + magic) - magic
    let r = x - n * 0.693_359_375 + n * 2.121_944_4e-4
    var p: Float = 1.987_569_15e-4
    p = p * r + 1.398_199_950_7e-3
    p = p * r + 8.333_451_907_3e-3
    p = p * r + 4.166_579_589_4e-2
    p = p * r + 1.666_666_545_9e-1
    p = p * r + 5.000_000_120_1e-1
    p = p * r * r + r + 1
    return p * Float(bitPattern: UInt32(bitPattern: Int32(n) &+ 127) &<< 23)
}

extension Activations {
    /// σ over a whole tensor on all cores, through `fastExponential`.
    static func sigmoid(_ x: Tensor) -> Tensor {
        x.withFloats { source in
            Tensor.filled(shape: x.shape, elementType: x.elementType) { out in
                Parallel.forChunks(source.count, minimumPerWorker: 32768) { range in
                    let input = source.baseAddress!, output = out.baseAddress!
                    for i in range { output[i] = 1 / (1 + fastExponential(-input[i])) }
                }
            }
        }
    }
}
