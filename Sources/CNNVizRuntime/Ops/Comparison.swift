/// The comparison and logic ops: Equal, Greater, Less, GreaterOrEqual, LessOrEqual (any
/// numeric type in, bool out), And, Or, Xor, Not (bool), IsNaN and IsInf (float in, bool out).
///
/// Their outputs are piecewise constant, so no gradient flows through them
/// (`Session.zeroGradientOps`). Pitfall: NaN compares false with everything, Equal included,
/// so the float path compares Floats and never Int64 conversions of them.
struct Comparison: Operator {
    enum Kind { case equal, greater, less, greaterOrEqual, lessOrEqual, and, or, xor }
    let kind: Kind

    func compare<T: Comparable>(_ a: T, _ b: T) -> Bool {
        switch kind {
        case .equal: return a == b
        case .greater: return a > b
        case .less: return a < b
        case .greaterOrEqual: return a >= b
        case .lessOrEqual: return a <= b
        case .and, .or, .xor: preconditionFailure("logic ops compare booleans")
        }
    }

    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let a = try inputs.required(0, "A"), b = try inputs.required(1, "B")
        let shape = try Shape.broadcast(a.shape, b.shape)
        let values: [Int64]
        switch kind {
        case .and, .or, .xor:
            let (x, y) = (a.integers, b.integers)
            let op: (Int64, Int64) -> Int64
            switch kind {
            case .and: op = { $0 != 0 && $1 != 0 ? 1 : 0 }
            case .or: op = { $0 != 0 || $1 != 0 ? 1 : 0 }
            default: op = { ($0 != 0) != ($1 != 0) ? 1 : 0 }
            }
            values = Broadcasting.combine(x, a.shape, y, b.shape, into: shape, op)
        default:
            if case .integer(let x) = a.storage, case .integer(let y) = b.storage {
                values = Broadcasting.combine(x, a.shape, y, b.shape, into: shape) { compare($0, $1) ? 1 : 0 }
            } else {
                values = Broadcasting.combine(a.floats, a.shape, b.floats, b.shape, into: shape) { compare($0, $1) ? 1 : 0 }
                    .map { Int64($0) }
            }
        }
        return [Tensor(shape: shape, integers: values, elementType: .bool)]
    }

    static let builders: [String: OperatorBuilder] = [
        "Equal": { _, _ in Comparison(kind: .equal) },
        "Greater": { _, _ in Comparison(kind: .greater) },
        "Less": { _, _ in Comparison(kind: .less) },
        "GreaterOrEqual": { _, _ in Comparison(kind: .greaterOrEqual) },
        "LessOrEqual": { _, _ in Comparison(kind: .lessOrEqual) },
        "And": { _, _ in Comparison(kind: .and) },
        "Or": { _, _ in Comparison(kind: .or) },
        "Xor": { _, _ in Comparison(kind: .xor) },
        "Not": { _, _ in Predicate { $0 == 0 } integer: { $0 == 0 } },
        "IsNaN": { _, _ in Predicate { $0.isNaN } integer: { _ in false } },
        "IsInf": { node, _ in
            let positive = try node.int("detect_positive", default: 1) != 0
            let negative = try node.int("detect_negative", default: 1) != 0
            return Predicate { $0.isInfinite && ($0 > 0 ? positive : negative) } integer: { _ in false }
        },
    ]
}

/// A pointwise test with a bool output: Not, IsNaN, IsInf.
struct Predicate: Operator {
    let test: (Float) -> Bool
    let integer: (Int64) -> Bool

    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "X")
        let values: [Int64]
        switch x.storage {
        case .float(let v): values = v.map { test($0) ? 1 : 0 }
        case .integer(let v): values = v.map { integer($0) ? 1 : 0 }
        }
        return [Tensor(shape: x.shape, integers: values, elementType: .bool)]
    }
}
