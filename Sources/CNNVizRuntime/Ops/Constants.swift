/// Shape: the input's shape as int64, optionally sliced by start/end (opset 15).
struct ShapeOf: Operator {
    let start: Int, end: Int?

    init(node: Node) throws {
        start = try node.int("start", default: 0)
        end = node.attributes["end"] == nil ? nil : try node.int("end", default: 0)
    }

    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "data")
        return [Tensor.int64Vector(ShapeOf.slice(x.shape, start: start, end: end))]
    }

    static func slice(_ shape: [Int], start: Int, end: Int?) -> [Int] {
        let rank = shape.count
        func clamp(_ v: Int) -> Int { min(max(v < 0 ? v + rank : v, 0), rank) }
        let (s, e) = (clamp(start), clamp(end ?? rank))
        return s < e ? Array(shape[s..<e]) : []
    }
}

/// Constant: the tensor in `value`, or a scalar/list from value_float(s) / value_int(s).
struct Constant: Operator {
    let value: Tensor

    init(node: Node) throws {
        if let tensor = try node.tensor("value") {
            value = tensor
        } else if case .float(let v)? = node.attributes["value_float"] {
            value = .scalar(v)
        } else if case .floats(let v)? = node.attributes["value_floats"] {
            value = Tensor(shape: [v.count], floats: v)
        } else if case .int(let v)? = node.attributes["value_int"] {
            value = Tensor(shape: [], integers: [Int64(v)])
        } else if case .ints(let v)? = node.attributes["value_ints"] {
            value = Tensor.int64Vector(v)
        } else {
            throw CNNVizError(.invalidAttribute,
                              "Constant needs one of value, value_float(s), value_int(s); found \(node.attributes.keys.sorted())",
                              location: node.location)
        }
    }

    func forward(_ inputs: [Tensor?]) throws -> [Tensor] { [value] }
}

/// ConstantOfShape: a tensor of the shape in input 0, filled with the one-element `value`
/// (default float 0).
struct ConstantOfShape: Operator {
    let value: Tensor

    init(node: Node) throws { value = try node.tensor("value") ?? .scalar(0) }

    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let shape = try inputs.required(0, "input").integers.map { Int($0) }
        let count = try Shape.checkedCount(shape)
        switch value.storage {
        case .float(let v):
            return [Tensor(shape: shape, floats: [Float](repeating: v.first ?? 0, count: count), elementType: value.elementType)]
        case .integer(let v):
            return [Tensor(shape: shape, integers: [Int64](repeating: v.first ?? 0, count: count), elementType: value.elementType)]
        }
    }
}

/// Cast: converts to the element type `to`. Float → integer truncates toward zero and wraps
/// to the target width; → FLOAT16 rounds to half precision; → BOOL is x ≠ 0.
struct Cast: ValuePreservingOperator {
    let target: ElementType

    init(node: Node) throws {
        let code = try node.int("to", default: 1)
        guard let type = ElementType(rawValue: code), type.isSupported, !type.isText else {
            throw CNNVizError(.unsupportedDataType,
                              "Cast to \(ElementType(rawValue: code)?.description ?? "type \(code)") is not supported; cnn-viz supports FLOAT, FLOAT16, DOUBLE, integer and BOOL",
                              location: node.location)
        }
        target = type
    }

    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        [Cast.convert(try inputs.required(0, "input"), to: target)]
    }

    static func convert(_ x: Tensor, to target: ElementType) -> Tensor {
        switch (x.storage, target.isFloatingPoint) {
        case (.float(let v), true):
            let values = target == .float16 ? v.map(Float16Bits.rounded) : v
            return Tensor(shape: x.shape, floats: values, elementType: target)
        case (.integer(let v), true):
            let values = v.map { target == .float16 ? Float16Bits.rounded(Float($0)) : Float($0) }
            return Tensor(shape: x.shape, floats: values, elementType: target)
        case (.float(let v), false):
            let values = v.map { f -> Int64 in
                if target == .bool { return f != 0 ? 1 : 0 }
                return target.wrapped(Shape.saturatingInteger(f))
            }
            return Tensor(shape: x.shape, integers: values, elementType: target)
        case (.integer(let v), false):
            return Tensor(shape: x.shape, integers: v.map(target.wrapped), elementType: target)
        }
    }
}

/// Identity: y = x.
struct Identity: ValuePreservingOperator {
    func forward(_ inputs: [Tensor?]) throws -> [Tensor] { [try inputs.required(0, "input")] }
}

/// Dropout in inference: y = x, and the optional mask output is all true.
///
/// Training-mode dropout (training_mode input true with ratio > 0) is random and is refused.
struct Dropout: ValuePreservingOperator {
    init(node: Node, opset: Int) throws {}

    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "data")
        if let training = inputs.optional(2), training.integers.first ?? 0 != 0,
           (inputs.optional(1)?.floats.first ?? 0.5) > 0 {
            throw CNNVizError(.invalidArgument, "training-mode Dropout is random; cnn-viz runs Dropout in inference mode only")
        }
        return [x, Tensor(shape: x.shape, integers: [Int64](repeating: 1, count: x.count), elementType: .bool)]
    }
}
