import CNNVizRuntime
import Foundation
import XCTest

/// The mixed-radix FFT against the DFT's defining sum, evaluated in Double.
final class VectorFFTTests: XCTestCase {
    /// Lengths that exercise each radix (4, 2, 3, 5, 7), their mixtures, repeated odd factors
    /// and primes done directly (13, 31, 227); both signs; 16 lanes per element.
    func testMatchesTheDefiningSumInDouble() {
        var noise = NetworkBuilder.SplitMix64(seed: 17)
        let lanes = 16
        for length in [1, 2, 3, 4, 5, 7, 8, 12, 13, 16, 31, 49, 60, 224, 227] {
            let fft = VectorFFT(length: length)
            for inverse in [false, true] {
                let count = length * lanes
                var real = (0..<count).map { _ in Float.random(in: -1...1, using: &noise) }
                var imaginary = (0..<count).map { _ in Float.random(in: -1...1, using: &noise) }
                let (inputReal, inputImaginary) = (real, imaginary)
                var scratchReal = [Float](repeating: 0, count: count), scratchImaginary = scratchReal
                real.withUnsafeMutableBufferPointer { re in
                    imaginary.withUnsafeMutableBufferPointer { im in
                        scratchReal.withUnsafeMutableBufferPointer { sr in
                            scratchImaginary.withUnsafeMutableBufferPointer { si in
                                fft.transform(real: re.baseAddress!, imaginary: im.baseAddress!, vectorLength: lanes, inverse: inverse,
                                              scratch: (sr.baseAddress!, si.baseAddress!))
                            }
                        }
                    }
                }
                let sign = inverse ? 1.0 : -1.0
                var worst = 0.0
                for k in 0..<length {
                    for lane in 0..<lanes {
                        var (sumReal, sumImaginary) = (0.0, 0.0)
                        for j in 0..<length {
                            let angle = sign * 2 * Double.pi * Double((j * k) % length) / Double(length)
                            let (a, b) = (Double(inputReal[j * lanes + lane]), Double(inputImaginary[j * lanes + lane]))
                            sumReal += a * cos(angle) - b * sin(angle)
                            sumImaginary += a * sin(angle) + b * cos(angle)
                        }
                        worst = max(worst, abs(Double(real[k * lanes + lane]) - sumReal), abs(Double(imaginary[k * lanes + lane]) - sumImaginary))
                    }
                }
                // Entries are sums of N unit-sized terms, about √N in size; float rounding
                // grows like log N for the radix stages and like N for a direct prime stage.
                XCTAssertLessThanOrEqual(worst, 2e-6 * Double(length) + 1e-5, "length \(length), inverse \(inverse)")
            }
        }
    }
}
