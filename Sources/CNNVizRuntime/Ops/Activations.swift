import Foundation

/// A pointwise function y = f(x) on Float32, with its derivative.
protocol PointwiseFunction {
    func callAsFunction(_ x: Float) -> Float
    /// dy/dx at x, where y = f(x) is given too (many derivatives are cheaper from y).
    func derivative(_ x: Float, _ y: Float) -> Float
    /// True when `derivative` reads only y, so that the forward input need not be kept.
    static var derivativeReadsOutputOnly: Bool { get }
    /// y[i] = f(x[i]) for i in `range`. A requirement (with a default) so that each function's
    /// loop is compiled for that function, with f inlined: the loop then vectorises, where a
    /// loop in generic code calls f through the witness table once per element.
    func map(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ range: Range<Int>)
    /// out[i] = g[i]·f′(x[i], y[i]) for i in `range`, compiled per function as `map` is.
    func mapGradient(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>,
                     _ out: UnsafeMutablePointer<Float>, _ range: Range<Int>)
}

extension PointwiseFunction {
    static var derivativeReadsOutputOnly: Bool { false }

    @inline(__always)
    func map(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ range: Range<Int>) {
        for i in range { y[i] = self(x[i]) }
    }

    @inline(__always)
    func mapGradient(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>,
                     _ out: UnsafeMutablePointer<Float>, _ range: Range<Int>) {
        for i in range { out[i] = g[i] * derivative(x[i], y[i]) }
    }
}

/// Applies a pointwise function to a floating-point tensor, on all cores for large tensors.
struct Pointwise<F: PointwiseFunction>: Operator, Differentiable {
    let function: F

    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.requiredFloat(0, "X")
        return [Pointwise.apply(function, to: x)]
    }

    /// ∂L/∂x = g · f′(x). ReLU (the hot one) runs a concrete loop: F is not specialised here.
    func backward(_ context: BackwardContext) throws -> [Tensor?] {
        let g = try context.outputGradient, y = try context.output(0)
        if F.self == Activations.Relu.self { return [Activations.clampBackward(g, y, low: 0, high: .infinity)] }
        let x = F.derivativeReadsOutputOnly ? y : try context.input(0, "X")
        precondition(g.shape == x.shape && g.shape == y.shape, "Pointwise gradient \(g.shape) against \(x.shape) and \(y.shape)")
        return [g.withFloats { gp in
            x.withFloats { xp in
                y.withFloats { yp in
                    Tensor.filled(shape: g.shape, elementType: g.elementType) { out in
                        Parallel.forChunks(gp.count, minimumPerWorker: 32768) { range in
                            function.mapGradient(gp.baseAddress!, xp.baseAddress!, yp.baseAddress!, out.baseAddress!, range)
                        }
                    }
                }
            }
        }]
    }

    var backwardReads: BackwardReads { F.derivativeReadsOutputOnly ? .outputsNotData : .inputsAndOutputs }

    @inline(__always)
    static func apply(_ function: F, to x: Tensor) -> Tensor {
        x.withFloats { source in
            Tensor.filled(shape: x.shape, elementType: x.elementType) { out in
                Parallel.forChunks(source.count, minimumPerWorker: 32768) { range in
                    function.map(source.baseAddress!, out.baseAddress!, range)
                }
            }
        }
    }
}

/// The activation functions of ONNX, each with its formula.
enum Activations {
    /// g·[low < y < high] in one concrete loop, for ReLU (0, ∞) and Clip: the generic path
    /// calls the derivative through a closure per element.
    static func clampBackward(_ g: Tensor, _ y: Tensor, low: Float, high: Float) -> Tensor {
        g.withFloats { gp in
            y.withFloats { yp in
                Tensor.filled(shape: g.shape, elementType: g.elementType) { out in
                    Parallel.forChunks(gp.count, minimumPerWorker: 65536) { range in
                        for i in range { out[i] = yp[i] > low && yp[i] < high ? gp[i] : 0 }
                    }
                }
            }
        }
    }

    /// g·[y > 0] over `count` values: a ReLU's backward, for the ops that apply it in their
    /// own pass (`MasksRectifiedInputs`).
    static func passWherePositive(_ g: UnsafePointer<Float>, _ y: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 16 <= count {
            out.store(SIMD16<Float>.zero.replacing(with: g.simd16(i), where: y.simd16(i) .> 0), at: i)
            i += 16
        }
        for i in i..<count { out[i] = y[i] > 0 ? g[i] : 0 }
    }

    /// Relu: max(0, x); derivative [x > 0], read from y (y > 0 ⇔ x > 0), so a fused producer
    /// need not keep x. Pitfall: at x = 0 the derivative is taken as 0, as PyTorch does.
    struct Relu: PointwiseFunction {
        func callAsFunction(_ x: Float) -> Float { x > 0 ? x : 0 }
        func derivative(_ x: Float, _ y: Float) -> Float { y > 0 ? 1 : 0 }
        static var derivativeReadsOutputOnly: Bool { true }
    }
    /// LeakyRelu: x if x ≥ 0 else α·x (α = 0.01); derivative 1 for x > 0, else α (PyTorch's side at 0).
    struct LeakyRelu: PointwiseFunction {
        let alpha: Float
        func callAsFunction(_ x: Float) -> Float { x >= 0 ? x : alpha * x }
        func derivative(_ x: Float, _ y: Float) -> Float { x > 0 ? 1 : alpha }
    }
    /// Elu: x if x > 0 else α·(eˣ − 1); derivative 1, or α·eˣ = y + α. Pitfall: expm1 keeps precision near 0.
    struct Elu: PointwiseFunction {
        let alpha: Float
        func callAsFunction(_ x: Float) -> Float { x > 0 ? x : alpha * Foundation.expm1(x) }
        func derivative(_ x: Float, _ y: Float) -> Float { x > 0 ? 1 : alpha * Foundation.exp(x) }
    }
    /// Selu: γ·(x if x > 0 else α·(eˣ − 1)); derivative γ, or γ·α·eˣ.
    struct Selu: PointwiseFunction {
        let alpha: Float, gamma: Float
        func callAsFunction(_ x: Float) -> Float { x > 0 ? gamma * x : gamma * alpha * Foundation.expm1(x) }
        func derivative(_ x: Float, _ y: Float) -> Float { x > 0 ? gamma : gamma * alpha * Foundation.exp(x) }
    }
    /// Sigmoid: 1/(1 + e⁻ˣ) through `fastExponential` (clamped, so no overflow), vectorised;
    /// derivative y·(1 − y).
    struct Sigmoid: PointwiseFunction {
        func callAsFunction(_ x: Float) -> Float { 1 / (1 + fastExponential(-x)) }
        func derivative(_ x: Float, _ y: Float) -> Float { y * (1 - y) }
        static var derivativeReadsOutputOnly: Bool { true }
    }
    /// SiLU (swish): x·σ(x) = x/(1 + e⁻ˣ), in one pass; derivative σ(x)·(1 + x·(1 − σ(x))).
    /// Not an ONNX op: `Session` runs a Sigmoid and the Mul that reads it as this.
    struct SiLU: PointwiseFunction {
        func callAsFunction(_ x: Float) -> Float { x / (1 + fastExponential(-x)) }
        func derivative(_ x: Float, _ y: Float) -> Float {
            let s = Sigmoid()(x)
            return s * (1 + x * (1 - s))
        }
    }
    /// HardSigmoid: max(0, min(1, α·x + β)); derivative α strictly inside the ramp, else 0.
    struct HardSigmoid: PointwiseFunction {
        let alpha: Float, beta: Float
        func callAsFunction(_ x: Float) -> Float { max(0, min(1, alpha * x + beta)) }
        func derivative(_ x: Float, _ y: Float) -> Float {
            let t = alpha * x + beta
            return t > 0 && t < 1 ? alpha : 0
        }
    }
    /// HardSwish: x·max(0, min(1, x/6 + 1/2)); derivative 0 below −3, x/3 + 1/2 up to 3, then 1 (PyTorch).
    struct HardSwish: PointwiseFunction {
        func callAsFunction(_ x: Float) -> Float { x * max(0, min(1, x / 6 + 0.5)) }
        func derivative(_ x: Float, _ y: Float) -> Float { x < -3 ? 0 : (x <= 3 ? x / 3 + 0.5 : 1) }
    }
    /// Tanh (`fastTanh`, vectorised); derivative 1 − y².
    struct Tanh: PointwiseFunction {
        func callAsFunction(_ x: Float) -> Float { fastTanh(x) }
        func derivative(_ x: Float, _ y: Float) -> Float { 1 - y * y }
        static var derivativeReadsOutputOnly: Bool { true }
    }
    /// Gelu: x·Φ(x) = x/2·(1 + erf(x/√2)), derivative Φ(x) + x·φ(x); approximate "tanh":
    /// x/2·(1 + tanh(u)), u = √(2/π)·(x + 0.044715x³), derivative (1 + t)/2 + x/2·(1 − t²)·u′.
    struct Gelu: PointwiseFunction {
        let tanhApproximation: Bool
        func callAsFunction(_ x: Float) -> Float {
            if tanhApproximation {
                let inner = Float(0.7978845608028654) * (x + 0.044715 * x * x * x)
                return 0.5 * x * (1 + fastTanh(inner))
            }
            return 0.5 * x * (1 + fastErf(x * 0.707_106_781_186_547_6))
        }
        func derivative(_ x: Float, _ y: Float) -> Float {
            let x = Double(x)
            if tanhApproximation {
                let k = 0.7978845608028654
                let t = Foundation.tanh(k * (x + 0.044715 * x * x * x))
                return Float(0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * 0.044715 * x * x))
            }
            let cdf = 0.5 * (1 + Foundation.erf(x * 0.7071067811865476))
            return Float(cdf + x * Foundation.exp(-0.5 * x * x) * 0.3989422804014327)
        }
    }
    /// Erf (`fastErf`, vectorised); derivative 2/√π · e^(−x²).
    struct Erf: PointwiseFunction {
        func callAsFunction(_ x: Float) -> Float { fastErf(x) }
        func derivative(_ x: Float, _ y: Float) -> Float { 1.1283791670955126 * Foundation.exp(-x * x) }
    }
    /// Softplus: ln(1 + eˣ), as max(x, 0) + log1p(e^−|x|) so that large x does not overflow;
    /// derivative σ(x).
    struct Softplus: PointwiseFunction {
        func callAsFunction(_ x: Float) -> Float { max(x, 0) + Foundation.log1p(Foundation.exp(-abs(x))) }
        func derivative(_ x: Float, _ y: Float) -> Float { Sigmoid()(x) }
    }
    /// Mish: x·tanh(softplus(x)); derivative tanh(sp) + x·(1 − tanh²(sp))·σ(x).
    struct Mish: PointwiseFunction {
        func callAsFunction(_ x: Float) -> Float { x * Foundation.tanh(Softplus()(x)) }
        func derivative(_ x: Float, _ y: Float) -> Float {
            let t = Foundation.tanh(Softplus()(x))
            return t + x * (1 - t * t) * Sigmoid()(x)
        }
    }
    /// Exp; derivative y.
    struct Exp: PointwiseFunction {
        func callAsFunction(_ x: Float) -> Float { Foundation.exp(x) }
        func derivative(_ x: Float, _ y: Float) -> Float { y }
        static var derivativeReadsOutputOnly: Bool { true }
    }
    /// Sqrt; derivative 1/(2y) (infinite at 0, as in PyTorch).
    struct Sqrt: PointwiseFunction {
        func callAsFunction(_ x: Float) -> Float { x.squareRoot() }
        func derivative(_ x: Float, _ y: Float) -> Float { 0.5 / y }
        static var derivativeReadsOutputOnly: Bool { true }
    }
    struct Neg: PointwiseFunction {
        func callAsFunction(_ x: Float) -> Float { -x }
        func derivative(_ x: Float, _ y: Float) -> Float { -1 }
    }
    /// Abs; derivative sign(x), 0 at 0.
    struct Abs: PointwiseFunction {
        func callAsFunction(_ x: Float) -> Float { abs(x) }
        func derivative(_ x: Float, _ y: Float) -> Float { x > 0 ? 1 : (x < 0 ? -1 : 0) }
    }
    /// Log; derivative 1/x.
    struct Log: PointwiseFunction {
        func callAsFunction(_ x: Float) -> Float { Foundation.log(x) }
        func derivative(_ x: Float, _ y: Float) -> Float { 1 / x }
    }
    /// Reciprocal; derivative −y².
    struct Reciprocal: PointwiseFunction {
        func callAsFunction(_ x: Float) -> Float { 1 / x }
        func derivative(_ x: Float, _ y: Float) -> Float { -y * y }
        static var derivativeReadsOutputOnly: Bool { true }
    }

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
struct SignedIntegerAware<F: PointwiseFunction>: Operator, Differentiable {
    let function: F
    let integer: (Int64) -> Int64

    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "X")
        if x.isFloatingPoint { return [Pointwise.apply(function, to: x)] }
        return [Tensor(shape: x.shape, integers: x.integers.map { x.elementType.wrapped(integer($0)) }, elementType: x.elementType)]
    }

    func backward(_ context: BackwardContext) throws -> [Tensor?] {
        try Pointwise(function: function).backward(context)
    }
}
