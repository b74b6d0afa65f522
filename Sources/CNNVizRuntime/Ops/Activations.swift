import Foundation

/// A pointwise function y = f(x) on Float32.
protocol PointwiseFunction {
    func callAsFunction(_ x: Float) -> Float
}

/// Applies a pointwise function to a floating-point tensor, on all cores for large tensors.
struct Pointwise<F: PointwiseFunction>: Operator {
    let function: F

    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.requiredFloat(0, "X")
        return [Pointwise.apply(function, to: x)]
    }

    @inline(__always)
    static func apply(_ function: F, to x: Tensor) -> Tensor {
        x.withFloats { source in
            Tensor.filled(shape: x.shape, elementType: x.elementType) { out in
                Parallel.forChunks(source.count, minimumPerWorker: 32768) { range in
                    for i in range { out[i] = function(source[i]) }
                }
            }
        }
    }
}

/// The activation functions of ONNX, each with its formula.
enum Activations {
    /// Relu: max(0, x).
    struct Relu: PointwiseFunction { func callAsFunction(_ x: Float) -> Float { x > 0 ? x : 0 } }
    /// LeakyRelu: x if x ≥ 0 else α·x (α = 0.01).
    struct LeakyRelu: PointwiseFunction { let alpha: Float; func callAsFunction(_ x: Float) -> Float { x >= 0 ? x : alpha * x } }
    /// Elu: x if x > 0 else α·(eˣ − 1). Pitfall: expm1 keeps precision near 0.
    struct Elu: PointwiseFunction { let alpha: Float; func callAsFunction(_ x: Float) -> Float { x > 0 ? x : alpha * Foundation.expm1(x) } }
    /// Selu: γ·(x if x > 0 else α·(eˣ − 1)).
    struct Selu: PointwiseFunction {
        let alpha: Float, gamma: Float
        func callAsFunction(_ x: Float) -> Float { x > 0 ? gamma * x : gamma * alpha * Foundation.expm1(x) }
    }
    /// Sigmoid: 1/(1 + e⁻ˣ), written to avoid overflow for large |x|.
    struct Sigmoid: PointwiseFunction {
        func callAsFunction(_ x: Float) -> Float {
            if x >= 0 { return 1 / (1 + Foundation.exp(-x)) }
            let e = Foundation.exp(x)
            return e / (1 + e)
        }
    }
    /// HardSigmoid: max(0, min(1, α·x + β)).
    struct HardSigmoid: PointwiseFunction {
        let alpha: Float, beta: Float
        func callAsFunction(_ x: Float) -> Float { max(0, min(1, alpha * x + beta)) }
    }
    /// HardSwish: x·max(0, min(1, x/6 + 1/2)).
    struct HardSwish: PointwiseFunction { func callAsFunction(_ x: Float) -> Float { x * max(0, min(1, x / 6 + 0.5)) } }
    struct Tanh: PointwiseFunction { func callAsFunction(_ x: Float) -> Float { Foundation.tanh(x) } }
    /// Gelu: x·Φ(x) = x/2·(1 + erf(x/√2)); approximate "tanh": x/2·(1 + tanh(√(2/π)·(x + 0.044715x³))).
    struct Gelu: PointwiseFunction {
        let tanhApproximation: Bool
        func callAsFunction(_ x: Float) -> Float {
            if tanhApproximation {
                let inner = Float(0.7978845608028654) * (x + 0.044715 * x * x * x)
                return 0.5 * x * (1 + Foundation.tanh(inner))
            }
            return Float(0.5 * Double(x) * (1 + Foundation.erf(Double(x) * 0.7071067811865476)))
        }
    }
    struct Erf: PointwiseFunction { func callAsFunction(_ x: Float) -> Float { Foundation.erf(x) } }
    /// Softplus: ln(1 + eˣ), as max(x, 0) + log1p(e^−|x|) so that large x does not overflow.
    struct Softplus: PointwiseFunction {
        func callAsFunction(_ x: Float) -> Float { max(x, 0) + Foundation.log1p(Foundation.exp(-abs(x))) }
    }
    /// Mish: x·tanh(softplus(x)).
    struct Mish: PointwiseFunction { func callAsFunction(_ x: Float) -> Float { x * Foundation.tanh(Softplus()(x)) } }
    struct Exp: PointwiseFunction { func callAsFunction(_ x: Float) -> Float { Foundation.exp(x) } }
    struct Sqrt: PointwiseFunction { func callAsFunction(_ x: Float) -> Float { x.squareRoot() } }
    struct Neg: PointwiseFunction { func callAsFunction(_ x: Float) -> Float { -x } }
    struct Abs: PointwiseFunction { func callAsFunction(_ x: Float) -> Float { abs(x) } }
    struct Log: PointwiseFunction { func callAsFunction(_ x: Float) -> Float { Foundation.log(x) } }
    struct Reciprocal: PointwiseFunction { func callAsFunction(_ x: Float) -> Float { 1 / x } }

    static let builders: [String: OperatorBuilder] = [
        "Relu": { _, _ in Pointwise(function: Relu()) },
        "LeakyRelu": { node, _ in Pointwise(function: LeakyRelu(alpha: try node.float("alpha", default: 0.01))) },
        "Elu": { node, _ in Pointwise(function: Elu(alpha: try node.float("alpha", default: 1))) },
        "Selu": { node, _ in
            Pointwise(function: Selu(alpha: try node.float("alpha", default: 1.67326319217681884765625),
                                     gamma: try node.float("gamma", default: 1.05070102214813232421875)))
        },
        "Sigmoid": { _, _ in Pointwise(function: Sigmoid()) },
        "HardSigmoid": { node, _ in
            Pointwise(function: HardSigmoid(alpha: try node.float("alpha", default: 0.2), beta: try node.float("beta", default: 0.5)))
        },
        "HardSwish": { _, _ in Pointwise(function: HardSwish()) },
        "Tanh": { _, _ in Pointwise(function: Tanh()) },
        "Gelu": { node, _ in Pointwise(function: Gelu(tanhApproximation: try node.string("approximate", default: "none") == "tanh")) },
        "Erf": { _, _ in Pointwise(function: Erf()) },
        "Softplus": { _, _ in Pointwise(function: Softplus()) },
        "Mish": { _, _ in Pointwise(function: Mish()) },
        "Exp": { _, _ in Pointwise(function: Exp()) },
        "Sqrt": { _, _ in Pointwise(function: Sqrt()) },
        "Neg": { _, _ in SignedIntegerAware(function: Neg(), integer: { -$0 }) },
        "Abs": { _, _ in SignedIntegerAware(function: Abs(), integer: { abs($0) }) },
        "Log": { _, _ in Pointwise(function: Log()) },
        "Reciprocal": { _, _ in Pointwise(function: Reciprocal()) },
    ]
}

/// A pointwise op that also applies to integer tensors (Abs, Neg on shape arithmetic).
struct SignedIntegerAware<F: PointwiseFunction>: Operator {
    let function: F
    let integer: (Int64) -> Int64

    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "X")
        if x.isFloatingPoint { return [Pointwise.apply(function, to: x)] }
        return [Tensor(shape: x.shape, integers: x.integers.map { x.elementType.wrapped(integer($0)) }, elementType: x.elementType)]
    }
}
