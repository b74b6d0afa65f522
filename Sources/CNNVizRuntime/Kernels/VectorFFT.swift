import Foundation

/// The discrete Fourier transform along a sequence of N vectors, each of V complex values held
/// in split form (real parts in one [N][V] array, imaginary parts in another):
///
///   X[k][v] = Σ_j x[j][v] · e^{σ·2πi·jk/N},  σ = −1 forward, +1 inverse, unnormalised.
///
/// Stockham autosort, decimation in frequency, mixed radix (4, 2, then odd prime factors). A
/// radix-r stage over sub-length n = r·m combines inputs p + t·m (t < r) into outputs r·p + u
/// (u < r), times the twiddle e^{σ2πi·pu/n}; element q of every sub-sequence sits beside the
/// others, so each butterfly runs along one contiguous run of s·V floats (s: the product of the
/// earlier radices) and vectorises whatever N is. The output comes out in natural order.
///
/// Cost: about N·(Σ radices)·V complex multiply-adds, against N²·V for the direct product.
/// Pitfall: an odd prime factor r is done by its direct DFT (r² per group), so a large prime N
/// (227, AlexNet's input size) costs N² like the plain product; the result is as exact.
public struct VectorFFT: Sendable {
    public let length: Int
    /// Radices in stage order; their product is `length`.
    let radices: [Int]
    /// Per stage, for p < m and u in 1..<r: cos and sin of 2π·pu/n at [p·(r − 1) + u − 1].
    let twiddleCos: [[Float]]
    let twiddleSin: [[Float]]

    public init(length: Int) {
        precondition(length >= 1, "FFT length")
        self.length = length
        var radices = [Int](), rest = length
        while rest % 4 == 0 { radices.append(4); rest /= 4 }
        while rest % 2 == 0 { radices.append(2); rest /= 2 }
        var factor = 3
        while rest > 1 {
            while rest % factor == 0 { radices.append(factor); rest /= factor }
            factor += 2
            if factor * factor > rest, rest > 1 { radices.append(rest); rest = 1 }
        }
        self.radices = radices
        var (cosines, sines) = ([[Float]](), [[Float]]())
        var n = length
        for r in radices {
            let m = n / r
            var (c, s) = ([Float](repeating: 1, count: m * (r - 1)), [Float](repeating: 0, count: m * (r - 1)))
            for p in 0..<m {
                for u in 1..<r {
                    let angle = 2 * Double.pi * Double((p * u) % n) / Double(n)
                    (c[p * (r - 1) + u - 1], s[p * (r - 1) + u - 1]) = (Float(cos(angle)), Float(sin(angle)))
                }
            }
            cosines.append(c)
            sines.append(s)
            n = m
        }
        (twiddleCos, twiddleSin) = (cosines, sines)
    }

    /// Transforms `real` and `imaginary` ([N][vectorLength] each) in place; `scratch` holds
    /// two more arrays of the same size. Pitfall: `vectorLength` must be a multiple of 8 (pad
    /// the vectors; the padding lanes are transformed like the others).
    public func transform(real: UnsafeMutablePointer<Float>, imaginary: UnsafeMutablePointer<Float>, vectorLength: Int, inverse: Bool,
                          scratch: (real: UnsafeMutablePointer<Float>, imaginary: UnsafeMutablePointer<Float>)) {
        precondition(vectorLength % 8 == 0, "VectorFFT runs 8 lanes at a time")
        let sign: Float = inverse ? 1 : -1
        var source = (real, imaginary), target = (scratch.real, scratch.imaginary)
        var (n, run) = (length, vectorLength)
        for (stage, r) in radices.enumerated() {
            let m = n / r
            twiddleCos[stage].withUnsafeBufferPointer { c in
                twiddleSin[stage].withUnsafeBufferPointer { s in
                    let stage = Stage(radix: r, groups: m, run: run, sign: sign, cos: c.baseAddress!, sin: s.baseAddress!)
                    switch r {
                    case 2: stage.radix2(source, target)
                    case 4: stage.radix4(source, target)
                    default: stage.odd(source, target)
                    }
                }
            }
            swap(&source, &target)
            (n, run) = (m, run * r)
        }
        if source.0 != real {
            real.update(from: source.0, count: length * vectorLength)
            imaginary.update(from: source.1, count: length * vectorLength)
        }
    }

    /// One radix-r stage: `groups` (m) butterflies, each over runs of `run` floats, 8 lanes at a time.
    struct Stage {
        let radix: Int, groups: Int, run: Int, sign: Float
        let cos: UnsafePointer<Float>, sin: UnsafePointer<Float>
        typealias Split = (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>)
        typealias Lanes = (SIMD8<Float>, SIMD8<Float>)

        /// The twiddle e^{σ2πi·pu/n} as (cos, σ·sin); 1 for p = 0.
        @inline(__always) func twiddle(_ p: Int, _ u: Int) -> (Float, Float) {
            p == 0 ? (1, 0) : (cos[p * (radix - 1) + u - 1], sign * sin[p * (radix - 1) + u - 1])
        }

        /// Element `index` of the sequence, lanes i..<i + 8.
        @inline(__always) func load(_ x: Split, _ index: Int, _ i: Int) -> Lanes {
            (UnsafePointer(x.0 + index * run).simd8(i), UnsafePointer(x.1 + index * run).simd8(i))
        }

        @inline(__always) func store(_ z: Lanes, _ y: Split, _ index: Int, _ i: Int) {
            (y.0 + index * run).store(z.0, at: i)
            (y.1 + index * run).store(z.1, at: i)
        }

        @inline(__always) func times(_ z: Lanes, _ w: (Float, Float)) -> Lanes {
            (z.0 * w.0 - z.1 * w.1, z.0 * w.1 + z.1 * w.0)
        }

        func radix2(_ x: Split, _ y: Split) {
            for p in 0..<groups {
                let w = twiddle(p, 1)
                for i in stride(from: 0, to: run, by: 8) {
                    let (a, b) = (load(x, p, i), load(x, p + groups, i))
                    store((a.0 + b.0, a.1 + b.1), y, 2 * p, i)
                    store(times((a.0 - b.0, a.1 - b.1), w), y, 2 * p + 1, i)
                }
            }
        }

        /// a0…a3 → (a0 + a2) ± (a1 + a3), (a0 − a2) ± σi(a1 − a3), each times its twiddle.
        func radix4(_ x: Split, _ y: Split) {
            for p in 0..<groups {
                let (w1, w2, w3) = (twiddle(p, 1), twiddle(p, 2), twiddle(p, 3))
                for i in stride(from: 0, to: run, by: 8) {
                    let (a0, a1, a2, a3) = (load(x, p, i), load(x, p + groups, i), load(x, p + 2 * groups, i), load(x, p + 3 * groups, i))
                    let (t0, t1) = ((a0.0 + a2.0, a0.1 + a2.1), (a0.0 - a2.0, a0.1 - a2.1))
                    let t2 = (a1.0 + a3.0, a1.1 + a3.1)
                    let j = (-sign * (a1.1 - a3.1), sign * (a1.0 - a3.0))  // σi(a1 − a3)
                    store((t0.0 + t2.0, t0.1 + t2.1), y, 4 * p, i)
                    store(times((t1.0 + j.0, t1.1 + j.1), w1), y, 4 * p + 1, i)
                    store(times((t0.0 - t2.0, t0.1 - t2.1), w2), y, 4 * p + 2, i)
                    store(times((t1.0 - j.0, t1.1 - j.1), w3), y, 4 * p + 3, i)
                }
            }
        }

        /// Any odd radix by its direct DFT, pairing t with r − t: with s_t = a_t + a_{r−t},
        /// d_t = a_t − a_{r−t} and φ = σ2π·tu/r, output u = a0 + Σ_t s_t cos φ + i Σ_t d_t sin φ
        /// and output r − u the same with −i; then the twiddles. (r − 1)²/2 products per r outputs.
        func odd(_ x: Split, _ y: Split) {
            let r = radix, half = (r - 1) / 2
            let roots = (0..<r).map { k in
                let angle = 2 * Double.pi * Double(k) / Double(r)
                return (Float(Foundation.cos(angle)), sign * Float(Foundation.sin(angle)))
            }
            roots.withUnsafeBufferPointer { roots in
                withUnsafeTemporaryAllocation(of: Lanes.self, capacity: 2 * half) { pairs in
                    for p in 0..<groups {
                        for i in stride(from: 0, to: run, by: 8) {
                            let a0 = load(x, p, i)
                            var total = a0
                            for t in 1...half {
                                let (a, b) = (load(x, p + t * groups, i), load(x, p + (r - t) * groups, i))
                                pairs[2 * t - 2] = (a.0 + b.0, a.1 + b.1)
                                pairs[2 * t - 1] = (a.0 - b.0, a.1 - b.1)
                                total = (total.0 + pairs[2 * t - 2].0, total.1 + pairs[2 * t - 2].1)
                            }
                            store(total, y, r * p, i)
                            for u in 1...half {
                                var (even, odd) = (a0, (SIMD8<Float>(), SIMD8<Float>()))
                                for t in 1...half {
                                    let (c, s) = roots[(t * u) % r], (sum, difference) = (pairs[2 * t - 2], pairs[2 * t - 1])
                                    even = (even.0 + c * sum.0, even.1 + c * sum.1)
                                    odd = (odd.0 + s * difference.0, odd.1 + s * difference.1)
                                }
                                // even ± i·odd
                                store(times((even.0 - odd.1, even.1 + odd.0), twiddle(p, u)), y, r * p + u, i)
                                store(times((even.0 + odd.1, even.1 - odd.0), twiddle(p, r - u)), y, r * p + r - u, i)
                            }
                        }
                    }
                }
            }
        }
    }
}
