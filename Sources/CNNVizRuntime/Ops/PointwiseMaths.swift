import Foundation

/// The pointwise maths ops beyond the activations: rounding (whose gradient is zero almost
/// everywhere, so the reverse pass stops there, see `Session.zeroGradientOps`), the
/// trigonometric pair, and three activations of later opsets.
enum PointwiseMaths {
    /// Floor: ⌊x⌋.
    struct Floor: PointwiseFunction {
        func callAsFunction(_ x: Float) -> Float { x.rounded(.down) }
        func derivative(_ x: Float, _ y: Float) -> Float { 0 }
    }
    /// Ceil: ⌈x⌉.
    struct Ceil: PointwiseFunction {
        func callAsFunction(_ x: Float) -> Float { x.rounded(.up) }
        func derivative(_ x: Float, _ y: Float) -> Float { 0 }
    }
    /// Round: to the nearest integer, halves to even (ONNX and NumPy: round(2.5) = 2).
    /// Pitfall: Swift's `rounded()` sends halves away from zero.
    struct Round: PointwiseFunction {
        func callAsFunction(_ x: Float) -> Float { x.rounded(.toNearestOrEven) }
        func derivative(_ x: Float, _ y: Float) -> Float { 0 }
    }
    /// Sign: −1, 0 or 1 (NaN stays NaN).
    struct Sign: PointwiseFunction {
        func callAsFunction(_ x: Float) -> Float { x > 0 ? 1 : x < 0 ? -1 : x }
        func derivative(_ x: Float, _ y: Float) -> Float { 0 }
    }
    /// Sin; derivative cos x.
    struct Sin: PointwiseFunction {
        func callAsFunction(_ x: Float) -> Float { Foundation.sin(x) }
        func derivative(_ x: Float, _ y: Float) -> Float { Foundation.cos(x) }
    }
    /// Cos; derivative −sin x.
    struct Cos: PointwiseFunction {
        func callAsFunction(_ x: Float) -> Float { Foundation.cos(x) }
        func derivative(_ x: Float, _ y: Float) -> Float { -Foundation.sin(x) }
    }
    /// Softsign: x / (1 + |x|); derivative 1 / (1 + |x|)².
    struct Softsign: PointwiseFunction {
        func callAsFunction(_ x: Float) -> Float { x / (1 + abs(x)) }
        func derivative(_ x: Float, _ y: Float) -> Float { 1 / ((1 + abs(x)) * (1 + abs(x))) }
    }
    /// ThresholdedRelu: x if x > α else 0; derivative [x > α].
    struct ThresholdedRelu: PointwiseFunction {
        let alpha: Float
        func callAsFunction(_ x: Float) -> Float { x > alpha ? x : 0 }
        func derivative(_ x: Float, _ y: Float) -> Float { x > alpha ? 1 : 0 }
    }
    /// Celu: max(0, x) + min(0, α·(exp(x/α) − 1)); derivative 1 for x > 0, else exp(x/α).
    /// Pitfall: expm1 keeps precision near 0.
    struct Celu: PointwiseFunction {
        let alpha: Float
        func callAsFunction(_ x: Float) -> Float { x > 0 ? x : alpha * Foundation.expm1(x / alpha) }
        func derivative(_ x: Float, _ y: Float) -> Float { x > 0 ? 1 : Foundation.exp(x / alpha) }
    }

    static let builders: [String: OperatorBuilder] = [
        "Floor": { _, _ in Pointwise(function: Floor()) },
        "Ceil": { _, _ in Pointwise(function: Ceil()) },
        "Round": { _, _ in Pointwise(function: Round()) },
        "Sign": { _, _ in SignedIntegerAware(function: Sign(), integer: { $0.signum() }) },
        "Sin": { _, _ in Pointwise(function: Sin()) },
        "Cos": { _, _ in Pointwise(function: Cos()) },
        "Softsign": { _, _ in Pointwise(function: Softsign()) },
        "ThresholdedRelu": { node, _ in Pointwise(function: ThresholdedRelu(alpha: try node.float("alpha", default: 1))) },
        "Celu": { node, _ in Pointwise(function: Celu(alpha: try node.float("alpha", default: 1))) },
    ]
}
