import Foundation

/// A binary function on Float32 and, where it makes sense, on Int64.
protocol BinaryFunction {
    func callAsFunction(_ a: Float, _ b: Float) -> Float
    /// The arithmetic kernel with a hand-written loop, for the common ops.
    var arithmetic: Arithmetic? { get }
    /// nil when the function is not defined for integers.
    func integer(_ a: Int64, _ b: Int64) -> Int64?
    /// (∂y/∂a, ∂y/∂b) at (a, b) with y = f(a, b); nil when f is not differentiable.
    func partials(_ a: Float, _ b: Float, _ y: Float) -> (Float, Float)?
}

/// out = f(a, b) with NumPy broadcasting.
///
/// The output has the element type of `a`. Integer division truncates toward zero (C semantics,
/// as ONNX specifies); integer results wrap to the element type's width.
struct ElementwiseBinary<F: BinaryFunction>: Operator, Differentiable {
    let function: F
    let name: String

    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let a = try inputs.required(0, "A"), b = try inputs.required(1, "B")
        return [try Self.apply(function, a, b, name: name)]
    }

    var backwardReads: BackwardReads {
        function.arithmetic == .add || function.arithmetic == .subtract ? .inputShapes : .inputsAndOutputs
    }

    /// ∂L/∂a = Σ_broadcast g·∂y/∂a, ∂L/∂b = Σ_broadcast g·∂y/∂b: the product at every output
    /// element, then summed over the axes along which that operand was broadcast.
    func backward(_ context: BackwardContext) throws -> [Tensor?] {
        let g = try context.outputGradient
        if let arithmetic = function.arithmetic, arithmetic == .add || arithmetic == .subtract {
            let (a, b) = (try context.inputShape(0, "A"), try context.inputShape(1, "B"))
            return [context.needs(0) ? g.sumReduced(to: a) : nil,
                    context.needs(1) ? g.sumReduced(to: b).scaled(by: arithmetic == .add ? 1 : -1) : nil]
        }
        let a = try context.input(0, "A"), b = try context.input(1, "B")
        if let arithmetic = function.arithmetic, arithmetic == .multiply, a.isFloatingPoint, b.isFloatingPoint {
            // ∂L/∂a = Σ_broadcast g·b, ∂L/∂b = Σ_broadcast g·a, each product one vectorised pass.
            func product(_ other: Tensor, to shape: [Int]) -> Tensor {
                Tensor(shape: g.shape, floats: Arithmetic.multiply.broadcast(g.floats, g.shape, other.floats, other.shape, into: g.shape),
                       elementType: g.elementType).sumReduced(to: shape)
            }
            return [context.needs(0) ? product(b, to: a.shape) : nil, context.needs(1) ? product(a, to: b.shape) : nil]
        }
        guard function.partials(1, 1, 1) != nil else {
            throw CNNVizError(.unsupportedOperator, "\(name) is not differentiable")
        }
        return Self.partialGradients(function, g, a, b, y: try context.output(0), needs: context.needsGradient)
    }

    /// g·∂y/∂a and g·∂y/∂b summed back to the operands' shapes.
    static func partialGradients(_ function: F, _ g: Tensor, _ a: Tensor, _ b: Tensor, y: Tensor, needs: [Bool]) -> [Tensor?] {
        let fullA = a.broadcast(to: g.shape), fullB = b.broadcast(to: g.shape)
        var result = [Tensor?]()
        for slot in 0..<2 {
            guard slot < needs.count && needs[slot] else { result.append(nil); continue }
            let product = fullA.withFloats { pa in
                fullB.withFloats { pb in
                    y.withFloats { py in
                        g.withFloats { pg in
                            Tensor.filled(shape: g.shape, elementType: g.elementType) { out in
                                for i in 0..<pg.count {
                                    let (da, db) = function.partials(pa[i], pb[i], py[i]) ?? (0, 0)
                                    out[i] = pg[i] * (slot == 0 ? da : db)
                                }
                            }
                        }
                    }
                }
            }
            result.append(product.sumReduced(to: slot == 0 ? a.shape : b.shape))
        }
        return result
    }

    static func apply(_ function: F, _ a: Tensor, _ b: Tensor, name: String) throws -> Tensor {
        let shape = try Shape.broadcast(a.shape, b.shape)
        switch (a.storage, b.storage) {
        case (.float(let x), .float(let y)):
            if x.count == y.count && a.shape == b.shape {
                return Tensor(shape: shape, floats: sameShape(x, y, function), elementType: a.elementType)
            }
            if let arithmetic = function.arithmetic {
                return Tensor(shape: shape, floats: arithmetic.broadcast(x, a.shape, y, b.shape, into: shape), elementType: a.elementType)
            }
            return Tensor(shape: shape, floats: Broadcasting.combine(x, a.shape, y, b.shape, into: shape, function.callAsFunction),
                          elementType: a.elementType)
        case (.integer(let x), .integer(let y)):
            guard function.integer(0, 1) != nil else {
                throw CNNVizError(.unsupportedDataType, "\(name) is not defined for integer type \(a.elementType)")
            }
            let type = a.elementType
            let values = Broadcasting.combine(x, a.shape, y, b.shape, into: shape) { type.wrapped(function.integer($0, $1) ?? 0) }
            return Tensor(shape: shape, integers: values, elementType: type)
        case (.float(let x), .integer):
            // Pow with an integer exponent: the result keeps the base's type.
            return Tensor(shape: shape, floats: Broadcasting.combine(x, a.shape, b.floats, b.shape, into: shape, function.callAsFunction),
                          elementType: a.elementType)
        case (.integer(let x), .float(let y)):
            let values = Broadcasting.combine(x.map { Float($0) }, a.shape, y, b.shape, into: shape, function.callAsFunction)
            return Tensor(shape: shape, integers: values.map { a.elementType.wrapped(Shape.saturatingInteger($0)) }, elementType: a.elementType)
        }
    }
}

extension BinaryFunction {
    var arithmetic: Arithmetic? { nil }
    func partials(_ a: Float, _ b: Float, _ y: Float) -> (Float, Float)? { nil }
}

/// Add, Sub, Mul and Div on equal shapes with one concrete loop each: operators reach the
/// generic ElementwiseBinary<F> through `any Operator`, where F is not specialised, so a
/// per-element `function(a, b)` would be an indirect call that never vectorises.
enum Arithmetic {
    case add, subtract, multiply, divide

    func apply(_ x: UnsafeBufferPointer<Float>, _ y: UnsafeBufferPointer<Float>, _ out: UnsafeMutableBufferPointer<Float>,
               _ range: Range<Int>) {
        switch self {
        case .add: for i in range { out[i] = x[i] + y[i] }
        case .subtract: for i in range { out[i] = x[i] - y[i] }
        case .multiply: for i in range { out[i] = x[i] * y[i] }
        case .divide: for i in range { out[i] = x[i] / y[i] }
        }
    }

    /// Under broadcasting (a squeeze-and-excitation's [N, C, H, W] · [N, C, 1, 1]), with the
    /// operation written out so that `Broadcasting.combine` inlines it and its rows vectorise.
    func broadcast(_ x: [Float], _ xShape: [Int], _ y: [Float], _ yShape: [Int], into shape: [Int]) -> [Float] {
        switch self {
        case .add: return Broadcasting.combine(x, xShape, y, yShape, into: shape) { $0 + $1 }
        case .subtract: return Broadcasting.combine(x, xShape, y, yShape, into: shape) { $0 - $1 }
        case .multiply: return Broadcasting.combine(x, xShape, y, yShape, into: shape) { $0 * $1 }
        case .divide: return Broadcasting.combine(x, xShape, y, yShape, into: shape) { $0 / $1 }
        }
    }
}

/// f(x[i], y[i]) for equal shapes, on all cores.
func sameShape<F: BinaryFunction>(_ x: [Float], _ y: [Float], _ function: F) -> [Float] {
    [Float](unsafeUninitializedCapacity: x.count) { out, initialized in
        x.withUnsafeBufferPointer { px in
            y.withUnsafeBufferPointer { py in
                Parallel.forChunks(x.count, minimumPerWorker: 65536) { range in
                    if let arithmetic = function.arithmetic {
                        arithmetic.apply(px, py, out, range)
                    } else {
                        for i in range { out[i] = function(px[i], py[i]) }
                    }
                }
            }
        }
        initialized = x.count
    }
}

/// The binary functions, each with its formula.
enum BinaryFunctions {
    struct Add: BinaryFunction {
        var arithmetic: Arithmetic? { .add }
        func callAsFunction(_ a: Float, _ b: Float) -> Float { a + b }
        func integer(_ a: Int64, _ b: Int64) -> Int64? { a &+ b }
        func partials(_ a: Float, _ b: Float, _ y: Float) -> (Float, Float)? { (1, 1) }
    }
    struct Sub: BinaryFunction {
        var arithmetic: Arithmetic? { .subtract }
        func callAsFunction(_ a: Float, _ b: Float) -> Float { a - b }
        func integer(_ a: Int64, _ b: Int64) -> Int64? { a &- b }
        func partials(_ a: Float, _ b: Float, _ y: Float) -> (Float, Float)? { (1, -1) }
    }
    struct Mul: BinaryFunction {
        var arithmetic: Arithmetic? { .multiply }
        func callAsFunction(_ a: Float, _ b: Float) -> Float { a * b }
        func integer(_ a: Int64, _ b: Int64) -> Int64? { a &* b }
        func partials(_ a: Float, _ b: Float, _ y: Float) -> (Float, Float)? { (b, a) }
    }
    struct Div: BinaryFunction {
        var arithmetic: Arithmetic? { .divide }
        func callAsFunction(_ a: Float, _ b: Float) -> Float { a / b }
        func integer(_ a: Int64, _ b: Int64) -> Int64? { b == 0 ? 0 : a / b }
        /// ∂(a/b)/∂a = 1/b, ∂(a/b)/∂b = −a/b².
        func partials(_ a: Float, _ b: Float, _ y: Float) -> (Float, Float)? { (1 / b, -y / b) }
    }
    /// Pow: aᵇ; ∂/∂a = b·aᵇ⁻¹, ∂/∂b = aᵇ·ln a (taken as 0 for a ≤ 0, as PyTorch does where a = 0).
    /// Pitfall: integer powers use repeated multiplication so that exact results stay exact.
    struct Pow: BinaryFunction {
        func callAsFunction(_ a: Float, _ b: Float) -> Float { Float(Foundation.pow(Double(a), Double(b))) }
        func integer(_ a: Int64, _ b: Int64) -> Int64? {
            guard b >= 0 else { return 0 }
            var result: Int64 = 1
            for _ in 0..<min(b, 64) { result = result &* a }
            return result
        }
        func partials(_ a: Float, _ b: Float, _ y: Float) -> (Float, Float)? {
            let da = b == 0 ? 0 : Float(Double(b) * Foundation.pow(Double(a), Double(b) - 1))
            return (da, a > 0 ? y * Foundation.log(a) : 0)
        }
    }
    /// PRelu: x if x ≥ 0 else slope·x, with the slope broadcast onto x; ∂/∂x = 1 or slope,
    /// ∂/∂slope = 0 or x (the x > 0 side at 0, as PyTorch).
    struct PRelu: BinaryFunction {
        func callAsFunction(_ x: Float, _ slope: Float) -> Float { x >= 0 ? x : x * slope }
        func integer(_ a: Int64, _ b: Int64) -> Int64? { a >= 0 ? a : a &* b }
        func partials(_ x: Float, _ slope: Float, _ y: Float) -> (Float, Float)? { x > 0 ? (1, 0) : (slope, x) }
    }
    struct Maximum: BinaryFunction {
        /// NaN propagates, as in NumPy's maximum.
        func callAsFunction(_ a: Float, _ b: Float) -> Float { a.isNaN || b.isNaN ? .nan : Swift.max(a, b) }
        func integer(_ a: Int64, _ b: Int64) -> Int64? { Swift.max(a, b) }
        /// The gradient goes to the larger operand, half to each on a tie (PyTorch's maximum).
        func partials(_ a: Float, _ b: Float, _ y: Float) -> (Float, Float)? { a == b ? (0.5, 0.5) : (a > b ? (1, 0) : (0, 1)) }
    }
    struct Minimum: BinaryFunction {
        func callAsFunction(_ a: Float, _ b: Float) -> Float { a.isNaN || b.isNaN ? .nan : Swift.min(a, b) }
        func integer(_ a: Int64, _ b: Int64) -> Int64? { Swift.min(a, b) }
        func partials(_ a: Float, _ b: Float, _ y: Float) -> (Float, Float)? { a == b ? (0.5, 0.5) : (a < b ? (1, 0) : (0, 1)) }
    }

    /// Mod: the remainder of a / b. fmod = 0 (integers only) takes the divisor's sign, as
    /// Python's %; fmod = 1 takes the dividend's, as C's fmod. ∂/∂a = 1, ∂/∂b = −q with q the
    /// rounded quotient. Pitfall: integer division by zero gives 0 here, not a trap.
    struct Mod: BinaryFunction {
        let fmod: Bool
        func callAsFunction(_ a: Float, _ b: Float) -> Float {
            let r = Foundation.fmod(a, b)
            return fmod || r == 0 || (r < 0) == (b < 0) ? r : r + b
        }
        func integer(_ a: Int64, _ b: Int64) -> Int64? {
            guard b != 0 else { return 0 }
            let r = a % b
            return fmod || r == 0 || (r < 0) == (b < 0) ? r : r + b
        }
        func partials(_ a: Float, _ b: Float, _ y: Float) -> (Float, Float)? { (1, b == 0 ? 0 : -((a - y) / b).rounded()) }
    }

    static let builders: [String: OperatorBuilder] = [
        "Mod": { node, _ in ElementwiseBinary(function: Mod(fmod: try node.int("fmod", default: 0) != 0), name: "Mod") },
        "Add": { _, _ in ElementwiseBinary(function: Add(), name: "Add") },
        "Sub": { _, _ in ElementwiseBinary(function: Sub(), name: "Sub") },
        "Mul": { _, _ in ElementwiseBinary(function: Mul(), name: "Mul") },
        "Div": { _, _ in ElementwiseBinary(function: Div(), name: "Div") },
        "Pow": { _, _ in ElementwiseBinary(function: Pow(), name: "Pow") },
        "PRelu": { _, _ in ElementwiseBinary(function: PRelu(), name: "PRelu") },
    ]
}
