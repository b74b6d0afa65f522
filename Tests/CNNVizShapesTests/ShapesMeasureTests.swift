import CNNVizAttribution
import CNNVizReport
import CNNVizRuntime
import CNNVizShapes
import CNNVizTestSupport
import Foundation
import XCTest

/// The measures of `shapes eval` and of filter structure, on hand-made inputs with known answers.
final class ShapesMeasureTests: EngineTestCase {
    func testPointingGameHitsOnlyWhenTheMaximumIsInsideTheMask() {
        let mask: [Bool] = [false, true, true, false]
        XCTAssertTrue(AttributionScores.pointingHit(map: [0.1, 0.9, 0.2, 0.3], mask: mask))
        XCTAssertFalse(AttributionScores.pointingHit(map: [0.1, 0.2, 0.3, 0.9], mask: mask))
        // A tie goes to the first maximum in row-major order.
        XCTAssertFalse(AttributionScores.pointingHit(map: [1, 1, 1, 1], mask: mask))
        XCTAssertTrue(AttributionScores.pointingHit(map: [0, 1, 1, 1], mask: mask))
    }

    func testEnergyInsideIsThePositiveMassOnTheMask() {
        let mask: [Bool] = [false, true, true, false]
        XCTAssertEqual(AttributionScores.energyInside(map: [1, 2, 3, 4], mask: mask), 5.0 / 10.0, accuracy: 1e-12)
        // Negative values carry no energy.
        XCTAssertEqual(AttributionScores.energyInside(map: [-5, 2, 0, 2], mask: mask), 0.5, accuracy: 1e-12)
        XCTAssertEqual(AttributionScores.energyInside(map: [0, 0, 0, 0], mask: mask), 0)
        // A uniform map scores the mask's area fraction.
        XCTAssertEqual(AttributionScores.energyInside(map: [0.3, 0.3, 0.3, 0.3], mask: mask), 0.5, accuracy: 1e-12)
    }

    func testLowFrequencyShareOfConstantCheckerboardAndNoiseFilters() throws {
        let constant = Tensor(shape: [1, 1, 5, 5], floats: [Float](repeating: 0.7, count: 25))
        XCTAssertEqual(try XCTUnwrap(FilterSpectrum.lowFrequencyShare(constant)), 1, accuracy: 1e-9)
        // A 4×4 checkerboard lives entirely at the Nyquist frequency (2, 2).
        let checkerboard = Tensor(shape: [1, 1, 4, 4], floats: (0..<16).map { Float((($0 / 4) + ($0 % 4)) % 2 == 0 ? 1 : -1) })
        XCTAssertEqual(try XCTUnwrap(FilterSpectrum.lowFrequencyShare(checkerboard)), 0, accuracy: 1e-9)
        // cos(2πx/5) along x is the first harmonic: all low.
        let wave = Tensor(shape: [1, 1, 5, 5], floats: (0..<25).map { Float(cos(2 * Double.pi * Double($0 % 5) / 5)) })
        XCTAssertEqual(try XCTUnwrap(FilterSpectrum.lowFrequencyShare(wave)), 1, accuracy: 1e-9)
        // White noise spreads evenly: 9 of 25 frequencies, on average over many filters.
        var generator = NetworkBuilder.SplitMix64(seed: 3)
        let noise = Tensor(shape: [400, 3, 5, 5], floats: (0..<30_000).map { _ in Float(Double(generator.next() >> 11) / Double(1 << 53) - 0.5) })
        XCTAssertEqual(try XCTUnwrap(FilterSpectrum.lowFrequencyShare(noise)), 9.0 / 25, accuracy: 0.01)
        XCTAssertNil(FilterSpectrum.lowFrequencyShare(Tensor(shape: [2, 3, 3, 3], floats: [Float](repeating: 1, count: 54))),
                     "3×3 kernels have no high frequencies to compare with")
    }
}
