import CNNVizRuntime
import XCTest

/// How close two arrays of Float32 results must be: |actual − expected| ≤ absolute +
/// relative · max |expected| for every element. Scaling by the largest reference value, not
/// each element's own, is deliberate: small elements of a map or a gradient carry the
/// absolute rounding of the large ones, so a per-element relative bound fails on correct code.
public struct Tolerance: Sendable, CustomStringConvertible {
    public var absolute: Float
    public var relative: Float

    public init(absolute: Float, relative: Float) {
        self.absolute = absolute
        self.relative = relative
    }

    /// The same float32 computation with another summation order (a batch against single
    /// images, an NHWC wrapper against its original).
    public static let reordering = Tolerance(absolute: 1e-6, relative: 1e-5)
    /// A whole model against onnxruntime's float32 run (ModelReferenceTests' bound).
    public static let wholeModel = Tolerance(absolute: 1e-7, relative: 1e-4)
    /// A float32 gradient against central differences of a float64 forward pass, or against
    /// torch's float32 autograd.
    public static let gradient = Tolerance(absolute: 0, relative: 1e-4)

    public var description: String { "\(absolute) + \(relative)·max|expected|" }
}

/// Fails, naming the worst element, its two values and the bound, when `actual` and
/// `expected` differ by more than `tolerance` or in length.
public func assertClose(_ actual: [Float], _ expected: [Float], _ tolerance: Tolerance, _ message: @autoclosure () -> String = "",
                        file: StaticString = #filePath, line: UInt = #line) {
    guard actual.count == expected.count else {
        return XCTFail("\(message()): \(actual.count) values, expected \(expected.count)", file: file, line: line)
    }
    let bound = tolerance.absolute + tolerance.relative * (expected.map(abs).max() ?? 0)
    var worst: Float = 0, worstIndex = 0
    for i in expected.indices {
        let difference = abs(actual[i] - expected[i])
        if !(difference <= worst) { (worst, worstIndex) = (difference, i) }
    }
    if !(worst <= bound) {
        XCTFail("\(message()): max |actual − expected| = \(worst) at \(worstIndex) (actual \(actual[worstIndex]), expected \(expected[worstIndex])) "
                + "exceeds \(bound) (\(tolerance))", file: file, line: line)
    }
}

/// `assertClose` for tensors, which must have the same element count.
public func assertClose(_ actual: Tensor, _ expected: Tensor, _ tolerance: Tolerance, _ message: @autoclosure () -> String = "",
                        file: StaticString = #filePath, line: UInt = #line) {
    assertClose(actual.floats, expected.floats, tolerance, message(), file: file, line: line)
}
