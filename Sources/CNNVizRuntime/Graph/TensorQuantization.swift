import Foundation

/// The scale and zero point that give an integer tensor of a quantized graph its real values,
/// so that tools can compare it with the float tensor it stands for.
///
/// Read from the node that makes the tensor: QuantizeLinear (inputs 1, 2, its axis), QLinearConv
/// and QLinearMatMul (6, 7), com.microsoft QLinearAdd and QLinearMul (6, 7), QLinearSigmoid,
/// QLinearLeakyRelu, QLinearGlobalAveragePool, QLinearAveragePool (3, 4), QLinearConcat (0, 1),
/// QGemm (7, 8); ops that only move or select integers (MaxPool, Reshape, Flatten, Transpose,
/// Squeeze, Unsqueeze, Slice, Gather, Identity, Pad, Resize) pass their input's on. The
/// parameters must be constants. Pitfall: DynamicQuantizeLinear's scale is computed per input,
/// so its outputs have none here; the float tensors around it are compared instead.
public struct TensorQuantization: Sendable {
    public var scale: Tensor
    public var zero: Tensor?
    public var axis: Int

    /// value = (q − zero) · scale, per tensor or along `axis`.
    public func dequantize(_ tensor: Tensor) throws -> Tensor {
        try Quantization.DequantizeLinear(axis: axis, blockSize: 0).forward([tensor, scale, zero])[0]
    }

    /// q = saturate(round(value / scale) + zero), as QuantizeLinear (to the zero point's type).
    public func quantize(_ tensor: Tensor) throws -> Tensor {
        try Quantization.QuantizeLinear(axis: axis, blockSize: 0, outputType: nil).forward([tensor, scale, zero])[0]
    }
}

extension Graph {
    /// Inputs (scale, zero point) that hold a quantizing op's output parameters, by op type.
    static let outputQuantization: [String: (Int, Int)] = [
        "QuantizeLinear": (1, 2), "QLinearConv": (6, 7), "QLinearMatMul": (6, 7), "QLinearAdd": (6, 7), "QLinearMul": (6, 7),
        "QLinearSigmoid": (3, 4), "QLinearLeakyRelu": (3, 4), "QLinearGlobalAveragePool": (3, 4), "QLinearAveragePool": (3, 4),
        "QLinearConcat": (0, 1), "QGemm": (7, 8),
    ]
    static let integerPassThrough: Set<String> = ["MaxPool", "Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze", "Slice",
                                                  "Gather", "Identity", "Pad", "Resize"]

    /// Every integer tensor whose real values the graph defines (see `TensorQuantization`).
    public func quantizedTensors() -> [String: TensorQuantization] {
        var result = [String: TensorQuantization]()
        for node in nodes {
            guard let output = node.outputs.first, !output.isEmpty else { continue }
            if let (scaleIndex, zeroIndex) = Graph.outputQuantization[node.opType], scaleIndex < node.inputs.count,
               let scale = initializers[node.inputs[scaleIndex]] {
                let zero = zeroIndex < node.inputs.count ? initializers[node.inputs[zeroIndex]] : nil
                let axis = node.opType == "QuantizeLinear" ? ((try? node.int("axis", default: 1)) ?? 1) : 1
                result[output] = TensorQuantization(scale: scale, zero: zero, axis: axis)
            } else if Graph.integerPassThrough.contains(node.opType), let input = node.inputs.first, let known = result[input],
                      known.scale.count == 1 {
                result[output] = known
            }
        }
        return result
    }
}
