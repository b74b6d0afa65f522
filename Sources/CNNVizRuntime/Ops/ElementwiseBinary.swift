import Foundation

/// A binary function on Float32 and, where it makes sense, on Int64.
protocol BinaryFunction {
    func callAsFunction(_ a: Float, _ b: Float) -> Float
    /// The arithmetic kernel with a hand-written loop, for the common ops.
    var arithmetic: Arithmetic? { get }
    /// nil when the function is not defined for integers.
    func integer(_ a: Int64, _ b: Int64) -> Int64?
}

/// out = f(a, b) with NumPy broadcasting.
///
/// The output has the element type of `a`. Integer division truncates toward zero (C semantics,
/// as ONNX specifies); integer results wrap to the element type's width.
struct ElementwiseBinary<F: BinaryFunction>: Operator {
    let function: F
    let name: String

    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let a = try inputs.required(0, "A"), b = try inputs.required(1, "B")
        return [try Self.apply(function, a, b, name: name)]
    }

    static func apply(_ function: F, _ a: Tensor, _ b: Tensor, name: String) throws -> Tensor {
        let shape = try Shape.broadcast(a.shape, b.shape)
        switch (a.storage, b.storage) {
        case (.float(let x), .float(let y)):
            if x.count == y.count && a.shape == b.shape {
                return Tensor(shape: shape, floats: sameShape(x, y, function), elementType: a.elementType)
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
    }
    struct Sub: BinaryFunction {
        var arithmetic: Arithmetic? { .subtract }
        func callAsFunction(_ a: Float, _ b: Float) -> Float { a - b }
        func integer(_ a: Int64, _ b: Int64) -> Int64? { a &- b }
    }
    struct Mul: BinaryFunction {
        var arithmetic: Arithmetic? { .multiply }
        func callAsFunction(_ a: Float, _ b: Float) -> Float { a * b }
        func integer(_ a: Int64, _ b: Int64) -> Int64? { a &* b }
    }
    struct Div: BinaryFunction {
        var arithmetic: Arithmetic? { .divide }
        func callAsFunction(_ a: Float, _ b: Float) -> Float { a / b }
        func integer(_ a: Int64, _ b: Int64) -> Int64? { b == 0 ? 0 : a / b }
    }
    /// Pow: aᵇ. Pitfall: integer powers use repeated multiplication so that exact results stay exact.
    struct Pow: BinaryFunction {
        func callAsFunction(_ a: Float, _ b: Float) -> Float { Float(Foundation.pow(Double(a), Double(b))) }
        func integer(_ a: Int64, _ b: Int64) -> Int64? {
            guard b >= 0 else { return 0 }
            var result: Int64 = 1
            for _ in 0..<min(b, 64) { result = result &* a }
            return result
        }
    }
    /// PRelu: x if x ≥ 0 else slope·x, with the slope broadcast onto x.
    struct PRelu: BinaryFunction {
        func callAsFunction(_ x: Float, _ slope: Float) -> Float { x >= 0 ? x : x * slope }
        func integer(_ a: Int64, _ b: Int64) -> Int64? { a >= 0 ? a : a &* b }
    }
    struct Maximum: BinaryFunction {
        /// NaN propagates, as in NumPy's maximum.
        func callAsFunction(_ a: Float, _ b: Float) -> Float { a.isNaN || b.isNaN ? .nan : Swift.max(a, b) }
        func integer(_ a: Int64, _ b: Int64) -> Int64? { Swift.max(a, b) }
    }
    struct Minimum: BinaryFunction {
        func callAsFunction(_ a: Float, _ b: Float) -> Float { a.isNaN || b.isNaN ? .nan : Swift.min(a, b) }
        func integer(_ a: Int64, _ b: Int64) -> Int64? { Swift.min(a, b) }
    }

    static let builders: [String: OperatorBuilder] = [
        "Add": { _, _ in ElementwiseBinary(function: Add(), name: "Add") },
        "Sub": { _, _ in ElementwiseBinary(function: Sub(), name: "Sub") },
        "Mul": { _, _ in ElementwiseBinary(function: Mul(), name: "Mul") },
        "Div": { _, _ in ElementwiseBinary(function: Div(), name: "Div") },
        "Pow": { _, _ in ElementwiseBinary(function: Pow(), name: "Pow") },
        "PRelu": { _, _ in ElementwiseBinary(function: PRelu(), name: "PRelu") },
    ]
}
