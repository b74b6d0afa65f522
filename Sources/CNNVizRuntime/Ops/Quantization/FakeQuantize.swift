import Foundation

/// A QuantizeLinear → DequantizeLinear pair as one float op, for gradients through a QDQ model:
/// y = (saturate(round(x / s) + z) − z) · s, with QuantizedArithmetic's rounding, and the
/// straight-through estimator for the backward pass: ∂y/∂x = 1 where the unclamped
/// round(x / s) + z lies in [q_min, q_max], and 0 where the forward saturates, as torch's
/// fake_quantize_per_tensor_affine and per_channel_affine define it.
/// Inputs (x, scale, zero point), per tensor or along `axis`.
/// Pitfall: round(x / s) has a zero derivative almost everywhere, so an exact gradient would
/// stop at every quantized layer; the estimator is a choice, which Grad-CAM on a QDQ model rests on.
struct FakeQuantize: Operator, Differentiable {
    let axis: Int

    /// For each element, its scale, zero point and integer range.
    func parameters(_ inputs: [Tensor?]) throws -> (x: Tensor, scales: [Float], zeros: [Int64], index: [Int], range: ClosedRange<Int64>) {
        let x = try inputs.requiredFloat(0, "x"), scale = try inputs.requiredFloat(1, "scale")
        let zero = inputs.optional(2)
        let index = try Quantization.parameterIndex(x.shape, parameterShape: scale.shape, axis: axis, blockSize: 0)
        return (x, scale.floats, zero?.integers ?? [0], index, (zero?.elementType ?? .uint8).integerRange)
    }

    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let (x, scales, zeros, index, range) = try parameters(inputs)
        let values = x.floats
        let result = values.indices.map { i -> Float in
            let (s, z) = (scales[index[i]], zeros[zeros.count == 1 ? 0 : index[i]])
            return QuantizedArithmetic.dequantize(QuantizedArithmetic.quantize(values[i], scale: s, zero: z, range: range), scale: s, zero: z)
        }
        return [Tensor(shape: x.shape, floats: result, elementType: x.elementType)]
    }

    var backwardReads: BackwardReads { .inputs }

    func backward(_ context: BackwardContext) throws -> [Tensor?] {
        guard let g = context.outputGradients[0], context.needs(0) else { return [nil, nil, nil] }
        let (x, scales, zeros, index, range) = try parameters(context.inputs)
        let values = x.floats, gradient = g.floats
        let passed = values.indices.map { i -> Float in
            let (s, z) = (scales[index[i]], zeros[zeros.count == 1 ? 0 : index[i]])
            let q = (values[i] / s).rounded(.toNearestOrEven) + Float(z)
            return q >= Float(range.lowerBound) && q <= Float(range.upperBound) ? gradient[i] : 0
        }
        return [Tensor(shape: x.shape, floats: passed), nil, nil]
    }
}

/// The QDQ model with each QuantizeLinear → DequantizeLinear pair replaced by one
/// `FakeQuantize` (the pair's float result, with a straight-through gradient), so that
/// gradients flow through it (`Session(model:quantization: .fakeQuantized)`). A Q whose every
/// consumer is a DQ of the same scale and zero point becomes one FakeQuantize per DQ output;
/// DQ nodes of constant weights and biases stay (they fold to float constants at load).
enum FakeQuantization {
    static func rewritten(_ graph: Graph) -> Graph {
        let consumers = graph.consumers
        let outputs = Set(graph.outputs.map(\.name))
        var nodes = graph.nodes, removed = Set<Int>()
        for (index, q) in graph.nodes.enumerated() where q.opType == "QuantizeLinear" && q.domain.isEmpty && q.inputs.count >= 2 {
            guard let output = q.outputs.first, !outputs.contains(output), let users = consumers[output], !users.isEmpty,
                  users.allSatisfy({ graph.nodes[$0].opType == "DequantizeLinear" && Array(graph.nodes[$0].inputs.dropFirst()) == Array(q.inputs.dropFirst()) })
            else { continue }
            removed.insert(index)
            for user in users {
                let dq = graph.nodes[user]
                nodes[user] = Node(name: dq.name.isEmpty ? q.name : dq.name, opType: "FakeQuantize", domain: "cnn-viz",
                                   inputs: [q.inputs[0]] + Array(q.inputs.dropFirst()), outputs: dq.outputs, attributes: q.attributes)
            }
        }
        var result = graph
        result.nodes = nodes.indices.filter { !removed.contains($0) }.map { nodes[$0] }
        return result
    }
}
