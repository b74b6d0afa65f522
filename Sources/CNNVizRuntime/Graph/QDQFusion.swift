import Foundation

/// Runs a QDQ model's quantized groups as integer ops, as onnxruntime's CPU provider does.
///
/// A QDQ model (what onnxruntime's quantizer writes by default) keeps float ops between
/// DequantizeLinear and QuantizeLinear nodes: x_q → DQ → Conv → Q → y_q. onnxruntime does not
/// run that as written: its graph optimizer (ORT_ENABLE_EXTENDED, on by default) turns each
/// group into one integer op, here QLinearConv(x_q, w_q, bias_int32) → y_q. The two differ:
/// the float Conv rounds each product and sum, the integer one is exact, and a value near a
/// rounding half lands one step apart; through a deep network those steps compound (measured
/// 2 steps on ResNet-18's logits, 11 on MobileNetV2's). Integer arithmetic does not depend on
/// the order of summation, so the fused groups give onnxruntime's values exactly.
///
/// Groups, as onnxruntime's QDQ selectors take them: DQ inputs (constant scalar scales and zero
/// points for activations; constant weights, per channel allowed), the op, and a single
/// QuantizeLinear consumer of its output (through a Relu or Clip that the quantisation range
/// already clips: the Q's zero point is the type's minimum, or Clip's bounds lie outside the
/// range):
///   Conv → QLinearConv, MatMul → QLinearMatMul, Gemm → com.microsoft QGemm (a bias must be a
///   DQ of int32, with beta = 1), Add and Mul → QLinearAdd and QLinearMul, GlobalAveragePool
///   and AveragePool → QLinearGlobalAveragePool and QLinearAveragePool, Sigmoid and LeakyRelu
///   → QLinearSigmoid and QLinearLeakyRelu, Concat → QLinearConcat.
/// The fused op takes the float op's name and the Q's output; the DQ nodes stay, so their
/// float outputs can still be asked for. Pitfall: the model's own graph (`Model.graph`) is
/// left as written, so that what differs between the two is one rewrite in one place.
enum QDQFusion {
    static func fused(_ graph: Graph) -> Graph {
        let producers = graph.producers
        let consumers = graph.consumers
        let outputs = Set(graph.outputs.map(\.name))
        let context = Context(graph: graph, producers: producers, consumers: consumers, outputs: outputs)
        var nodes = graph.nodes
        var removed = Set<Int>()
        for (index, node) in graph.nodes.enumerated() where node.domain.isEmpty || node.domain == "ai.onnx" {
            guard !removed.contains(index), let fused = context.fuse(index) else { continue }
            nodes[index] = fused.node
            removed.formUnion(fused.absorbed)
        }
        var result = graph
        result.nodes = nodes.indices.filter { !removed.contains($0) }.map { nodes[$0] }
        return result
    }

    /// A DequantizeLinear's inputs: the quantized tensor, its scale and zero point.
    struct Dequantized {
        var quantized: String
        var scale: String
        var zero: String
    }

    struct Context {
        let graph: Graph
        let producers: [String: Int]
        let consumers: [String: [Int]]
        let outputs: Set<String>

        /// The DQ that produces `tensor`, with constant parameters (scalars unless `perChannel`)
        /// and a constant input when `constant`.
        func dequantized(_ tensor: String, perChannel: Bool = false, constant: Bool = false) -> Dequantized? {
            guard let index = producers[tensor] else { return nil }
            let node = graph.nodes[index]
            guard node.opType == "DequantizeLinear", node.domain.isEmpty, node.inputs.count == 3,
                  let scale = graph.initializers[node.inputs[1]], let zero = graph.initializers[node.inputs[2]],
                  perChannel || (scale.count == 1 && zero.count == 1), zero.elementType == .uint8 || zero.elementType == .int8 || zero.elementType == .int32,
                  !constant || graph.initializers[node.inputs[0]] != nil else { return nil }
            return Dequantized(quantized: node.inputs[0], scale: node.inputs[1], zero: node.inputs[2])
        }

        /// The QuantizeLinear that alone consumes `tensor` (through a Relu or Clip it makes
        /// redundant), with its absorbed nodes; nil when the output goes anywhere else.
        func quantizer(of tensor: String) -> (q: Node, absorbed: [Int])? {
            guard let (next, index) = soleConsumer(of: tensor) else { return nil }
            if isQuantizer(next, of: tensor) { return (next, [index]) }
            // One Relu or Clip at most (a chain of ten thousand ReLUs must not recurse).
            guard next.opType == "Relu" || next.opType == "Clip", let output = next.outputs.first,
                  let (q, qIndex) = soleConsumer(of: output), isQuantizer(q, of: output), clipsNothing(next, quantizer: q) else { return nil }
            return (q, [index, qIndex])
        }

        func soleConsumer(of tensor: String) -> (node: Node, index: Int)? {
            guard !outputs.contains(tensor), let users = consumers[tensor], users.count == 1 else { return nil }
            return (graph.nodes[users[0]], users[0])
        }

        func isQuantizer(_ node: Node, of tensor: String) -> Bool {
            node.opType == "QuantizeLinear" && node.domain.isEmpty && isScalarQuantizer(node) && node.inputs[0] == tensor
        }

        func isScalarQuantizer(_ node: Node) -> Bool {
            guard node.inputs.count == 3, let scale = graph.initializers[node.inputs[1]], let zero = graph.initializers[node.inputs[2]] else { return false }
            return scale.count == 1 && zero.count == 1 && (zero.elementType == .uint8 || zero.elementType == .int8)
        }

        /// Whether a Relu or Clip before `q` changes nothing that `q` keeps: everything it
        /// removes lies outside q's range anyway.
        func clipsNothing(_ node: Node, quantizer q: Node) -> Bool {
            guard let scale = graph.initializers[q.inputs[1]]?.floats.first, let zeroTensor = graph.initializers[q.inputs[2]] else { return false }
            let zero = zeroTensor.integers[0], range = zeroTensor.elementType.integerRange
            let low = scale * Float(range.lowerBound - zero), high = scale * Float(range.upperBound - zero)
            if node.opType == "Relu" { return zero == range.lowerBound }
            func bound(_ position: Int) -> Float?? {
                guard position < node.inputs.count, !node.inputs[position].isEmpty else { return .some(nil) }
                return graph.initializers[node.inputs[position]].map { $0.floats.first }
            }
            guard node.attributes["min"] == nil, node.attributes["max"] == nil, let lower = bound(1), let upper = bound(2) else { return false }
            return (lower ?? -.infinity) <= low + Float.ulpOfOne && (upper ?? .infinity) >= high - Float.ulpOfOne
        }

        /// The integer op for node `index`'s group, and the nodes it replaces besides it.
        func fuse(_ index: Int) -> (node: Node, absorbed: [Int])? {
            let node = graph.nodes[index]
            guard let output = node.outputs.first, node.outputs.count == 1 || node.outputs.dropFirst().allSatisfy(\.isEmpty),
                  let (q, absorbed) = quantizer(of: output) else { return nil }
            let y = [q.inputs[1], q.inputs[2]]
            func make(_ opType: String, domain: String = "", _ inputs: [String], attributes: [String: Attribute]? = nil) -> (node: Node, absorbed: [Int]) {
                (Node(name: node.name, opType: opType, domain: domain, inputs: inputs, outputs: [q.outputs[0]],
                      attributes: attributes ?? node.attributes), absorbed)
            }
            func operands(_ d: Dequantized) -> [String] { [d.quantized, d.scale, d.zero] }
            /// onnxruntime fuses only when the activations share one integer type.
            func sameType(_ parts: [Dequantized]) -> Bool {
                Set((parts.map(\.zero) + [y[1]]).compactMap { graph.initializers[$0]?.elementType }).count == 1
            }
            switch node.opType {
            case "Conv", "MatMul", "Gemm":
                guard node.inputs.count >= 2, let x = dequantized(node.inputs[0]),
                      let w = dequantized(node.inputs[1], perChannel: true, constant: true) else { return nil }
                let bias = node.inputs.count > 2 && !node.inputs[2].isEmpty ? node.inputs[2] : nil
                let b = bias.flatMap { dequantized($0, perChannel: true, constant: true) }
                guard bias == nil || (b != nil && graph.initializers[b!.quantized]?.elementType == .int32), sameType([x]) else { return nil }
                switch node.opType {
                case "Conv": return make("QLinearConv", operands(x) + operands(w) + y + (b.map { [$0.quantized] } ?? []))
                case "MatMul": return make("QLinearMatMul", operands(x) + operands(w) + y)
                default:
                    guard b == nil || ((try? node.float("beta", default: 1)) ?? 0) == 1 else { return nil }
                    var attributes = node.attributes
                    attributes["beta"] = nil
                    return make("QGemm", domain: "com.microsoft", operands(x) + operands(w) + [b?.quantized ?? ""] + y, attributes: attributes)
                }
            case "Add", "Mul":
                guard node.inputs.count == 2, let a = dequantized(node.inputs[0]), let b = dequantized(node.inputs[1]), sameType([a, b]) else { return nil }
                return make("QLinear" + node.opType, domain: "com.microsoft", operands(a) + operands(b) + y)
            case "GlobalAveragePool", "AveragePool", "Sigmoid", "LeakyRelu":
                guard let x = dequantized(node.inputs[0]), sameType([x]) else { return nil }
                return make("QLinear" + node.opType, domain: "com.microsoft", operands(x) + y)
            case "Concat":
                let parts = node.inputs.map { dequantized($0) }
                guard !parts.isEmpty, parts.allSatisfy({ $0 != nil }), sameType(parts.map { $0! }) else { return nil }
                return make("QLinearConcat", domain: "com.microsoft", y + parts.flatMap { operands($0!) })
            default:
                return nil
            }
        }
    }
}
