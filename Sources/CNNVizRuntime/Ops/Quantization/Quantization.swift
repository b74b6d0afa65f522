import Foundation

/// The linear quantisation ops, forward only (integers carry no gradient):
///   QuantizeLinear:   y = saturate(round(x / scale) + zero_point), round half to even;
///   DequantizeLinear: y = (x − zero_point) · scale;
///   DynamicQuantizeLinear: uint8 with scale = (max(0, max x) − min(0, min x)) / 255 and
///     zero_point = saturate(round(−min(0, min x) / scale));
///   MatMulInteger, ConvInteger: int32 products of (a − a_zero_point) and (b − b_zero_point);
///   QLinearMatMul, QLinearConv: those products rescaled by a_scale·b_scale / y_scale and
///     quantised again.
/// scale and zero_point are a scalar, a 1-D tensor along `axis` (per channel), or blocks of
/// `block_size` along `axis`. Pitfall: the integer products run through the Float32 kernels on
/// exact integer values, which is exact while every partial sum stays below 2²⁴.
enum Quantization {
    /// For each element of a tensor of `shape`, the index into scale / zero_point.
    static func parameterIndex(_ shape: [Int], parameterShape: [Int], axis: Int, blockSize: Int) throws -> [Int] {
        let count = shape.reduce(1, *)
        let parameters = parameterShape.reduce(1, *)
        if parameters == 1 { return [Int](repeating: 0, count: count) }
        let axis = try Shape.normalizedAxis(axis, rank: shape.count)
        if parameterShape.count <= 1 {
            guard parameters == shape[axis] else {
                throw CNNVizError(.shapeMismatch, "a per-axis scale must have \(shape[axis]) values (axis \(axis) of \(shape)), found \(parameters)")
            }
            let (_, length, inner) = Shape.around(shape, axis: axis)
            return (0..<count).map { ($0 / inner) % length }
        }
        guard blockSize > 0, parameterShape.count == shape.count else {
            throw CNNVizError(.shapeMismatch, "a blocked scale \(parameterShape) needs block_size > 0 and the rank of the input \(shape)")
        }
        let strides = Shape.strides(parameterShape)
        var index = [Int](repeating: 0, count: shape.count), result = [Int]()
        for _ in 0..<count {
            var offset = 0
            for a in 0..<shape.count { offset += (a == axis ? index[a] / blockSize : index[a]) * strides[a] }
            result.append(offset)
            Shape.advance(&index, in: shape)
        }
        return result
    }

    static func saturate(_ value: Double, _ type: ElementType) -> Int64 {
        let range = type.integerRange
        guard !value.isNaN else { return 0 }
        return Swift.min(Swift.max(Int64(Swift.max(Swift.min(value, 9.2e18), -9.2e18)), range.lowerBound), range.upperBound)
    }

    struct QuantizeLinear: Operator {
        let axis: Int, blockSize: Int, outputType: ElementType?

        init(axis: Int, blockSize: Int, outputType: ElementType?) {
            (self.axis, self.blockSize, self.outputType) = (axis, blockSize, outputType)
        }

        init(node: Node) throws {
            axis = try node.int("axis", default: 1)
            blockSize = try node.int("block_size", default: 0)
            let type = try node.int("output_dtype", default: 0)
            outputType = type == 0 ? nil : ElementType(rawValue: type)
        }

        func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
            let x = try inputs.requiredFloat(0, "x"), scale = try inputs.requiredFloat(1, "y_scale")
            let zeroPoint = inputs.optional(2)
            let type = zeroPoint?.elementType ?? outputType ?? .uint8
            guard type.isInteger else { throw CNNVizError(.unsupportedDataType, "QuantizeLinear to \(type) is not supported") }
            let index = try parameterIndex(x.shape, parameterShape: scale.shape, axis: axis, blockSize: blockSize)
            let (values, scales, zeros, range) = (x.floats, scale.floats, zeroPoint?.integers ?? [0], type.integerRange)
            let result = values.indices.map { i -> Int64 in
                let p = index[i]
                return QuantizedArithmetic.quantize(values[i], scale: scales[p], zero: zeros[zeros.count == 1 ? 0 : p], range: range)
            }
            return [Tensor(shape: x.shape, integers: result, elementType: type)]
        }
    }

    struct DequantizeLinear: Operator {
        let axis: Int, blockSize: Int

        init(axis: Int, blockSize: Int) {
            self.axis = axis
            self.blockSize = blockSize
        }

        init(node: Node) throws {
            axis = try node.int("axis", default: 1)
            blockSize = try node.int("block_size", default: 0)
        }

        func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
            let x = try inputs.required(0, "x"), scale = try inputs.requiredFloat(1, "x_scale")
            let index = try parameterIndex(x.shape, parameterShape: scale.shape, axis: axis, blockSize: blockSize)
            let scales = scale.floats
            let result: [Float]
            if x.elementType.isInteger {
                // The integer difference first, then one conversion and one Float32 product, as
                // onnxruntime: an int32 bias beyond 2²⁴ rounds once, not twice.
                let (values, zeros) = (x.integers, inputs.optional(2)?.integers ?? [0])
                result = values.indices.map { i in
                    let p = index[i]
                    return QuantizedArithmetic.dequantize(values[i], scale: scales[p], zero: zeros[zeros.count == 1 ? 0 : p])
                }
            } else {
                let (values, zeros) = (x.floats, inputs.optional(2)?.floats ?? [0])
                result = values.indices.map { i in
                    let p = index[i]
                    return (values[i] - zeros[zeros.count == 1 ? 0 : p]) * scales[p]
                }
            }
            return [Tensor(shape: x.shape, floats: result, elementType: scale.elementType)]
        }
    }

    struct DynamicQuantizeLinear: Operator {
        func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
            let x = try inputs.requiredFloat(0, "x")
            let values = x.floats
            // In Float32 throughout, as the ONNX reference: a Double quotient rounds differently at halves.
            let low = Swift.min(values.min() ?? 0, 0), high = Swift.max(values.max() ?? 0, 0)
            let scale = (high - low) / 255
            let zero = scale == 0 ? 0 : saturate(Double((-low / scale).rounded(.toNearestOrEven)), .uint8)
            let y = values.map { scale == 0 ? zero : saturate(Double(($0 / scale).rounded(.toNearestOrEven)) + Double(zero), .uint8) }
            return [Tensor(shape: x.shape, integers: y, elementType: .uint8), .scalar(scale),
                    Tensor(shape: [], integers: [zero], elementType: .uint8)]
        }
    }

    /// (t − zero_point) as Float32, the zero point a scalar or one value per index along `axis`.
    static func centred(_ t: Tensor, _ zeroPoint: Tensor?, axis: Int) -> Tensor {
        guard let zeroPoint else { return Tensor(shape: t.shape, floats: t.floats) }
        let zeros = zeroPoint.floats
        let values = t.floats
        if zeros.count <= 1 { return Tensor(shape: t.shape, floats: values.map { $0 - (zeros.first ?? 0) }) }
        let axis = axis < 0 ? axis + t.rank : axis
        let (_, length, inner) = Shape.around(t.shape, axis: axis)
        return Tensor(shape: t.shape, floats: values.indices.map { values[$0] - zeros[($0 / inner) % length] })
    }

    /// Integer or requantised matrix product / convolution.
    struct IntegerProduct: Operator {
        enum Kind { case matMulInteger, convInteger, qLinearMatMul, qLinearConv }
        let kind: Kind
        let conv: Conv?

        init(node: Node, kind: Kind) throws {
            self.kind = kind
            conv = kind == .convInteger || kind == .qLinearConv ? try Conv(node: node) : nil
        }

        func product(_ a: Tensor, _ b: Tensor, bias: Tensor? = nil) throws -> Tensor {
            if let conv { return try conv.forward([a, b, bias])[0] }
            return try MatMul().forward([a, b])[0]
        }

        func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
            switch kind {
            case .matMulInteger, .convInteger:
                let a = try inputs.required(0, "A"), b = try inputs.required(1, "B")
                // A's zero point runs along its rows (axis −2), B's along its columns; a conv's W zero point per output channel.
                let aCentred = centred(a, inputs.optional(2), axis: kind == .matMulInteger ? -2 : 1)
                let bCentred = centred(b, inputs.optional(3), axis: kind == .matMulInteger ? -1 : 0)
                let y = try product(aCentred, bCentred)
                return [Tensor(shape: y.shape, integers: y.floats.map { Int64($0.rounded()) }, elementType: .int32)]
            case .qLinearMatMul, .qLinearConv:
                let a = try inputs.required(0, "a"), aScale = try inputs.requiredFloat(1, "a_scale")
                let b = try inputs.required(3, "b"), bScale = try inputs.requiredFloat(4, "b_scale")
                let yScale = try inputs.requiredFloat(6, "y_scale"), yZero = inputs.optional(7)
                let aCentred = centred(a, inputs.optional(2), axis: -2)
                let bCentred = centred(b, inputs.optional(5), axis: kind == .qLinearMatMul ? -1 : 0)
                let bias = inputs.optional(8).map { Tensor(shape: $0.shape, floats: $0.floats) }
                let y = try product(aCentred, bCentred, bias: bias)
                let (aS, bS, yS) = (aScale.floats, bScale.floats, yScale.floats[0])
                let type = yZero?.elementType ?? a.elementType
                let zero = yZero?.integers.first ?? 0
                let (_, channels, inner) = kind == .qLinearConv ? Shape.around(y.shape, axis: 1) : Shape.around(y.shape, axis: y.rank - 1)
                // onnxruntime's multiplier per output channel: (x_scale · w_scale[c]) / y_scale in Float32.
                let multipliers = (0..<channels).map { c in (aS[0] * bS[bS.count == 1 ? 0 : c]) / yS }
                let (values, range) = (y.floats, type.integerRange)
                let result = values.indices.map { i -> Int64 in
                    let c = kind == .qLinearConv ? (i / inner) % channels : i % channels
                    return QuantizedArithmetic.round(values[i] * multipliers[c], zero: zero, range: range)
                }
                return [Tensor(shape: y.shape, integers: result, elementType: type)]
            }
        }
    }

    static let builders: [String: OperatorBuilder] = [
        "QuantizeLinear": { node, _ in try QuantizeLinear(node: node) },
        "DequantizeLinear": { node, _ in try DequantizeLinear(node: node) },
        "DynamicQuantizeLinear": { _, _ in DynamicQuantizeLinear() },
        "MatMulInteger": { node, _ in try IntegerProduct(node: node, kind: .matMulInteger) },
        "ConvInteger": { node, _ in try IntegerProduct(node: node, kind: .convInteger) },
        "QLinearMatMul": { node, _ in try IntegerProduct(node: node, kind: .qLinearMatMul) },
        "QLinearConv": { node, _ in try IntegerProduct(node: node, kind: .qLinearConv) },
    ]

    /// The com.microsoft ops onnxruntime's quantizer writes for CNNs (QOperator format).
    static let microsoftBuilders: [String: OperatorBuilder] = [
        "QLinearAdd": { _, _ in QLinearBinary(kind: .add) },
        "QLinearMul": { _, _ in QLinearBinary(kind: .mul) },
        "QLinearSigmoid": { _, _ in QLinearLookup.sigmoid() },
        "QLinearLeakyRelu": { node, _ in try QLinearLookup.leakyRelu(node) },
        "QLinearConcat": { node, _ in try QLinearConcat(node: node) },
        "QLinearGlobalAveragePool": { node, _ in try QLinearPool(node: node, global: true) },
        "QLinearAveragePool": { node, _ in try QLinearPool(node: node, global: false) },
        "QGemm": { node, _ in try QGemm(node: node) },
    ]
}
