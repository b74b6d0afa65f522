/// Per-layer facts about a model: output shape, parameter count and multiply-accumulates,
/// found by running the model once on zeros of its declared input shape (symbolic dims = 1).
public enum ModelSummary {
    public struct Row: Encodable, Sendable {
        public var name: String
        public var op: String
        public var shape: [Int]
        public var parameters: Int
        public var macs: Int
    }

    public static func rows(for session: Session) throws -> [Row] {
        let graph = session.graph
        var feeds = [String: Tensor]()
        for input in graph.inputs {
            let shape = (input.shape ?? []).map { $0 ?? 1 }
            feeds[input.name] = input.elementType.isFloatingPoint
                ? Tensor.zeros(shape)
                : Tensor(shape: shape, integers: [Int64](repeating: 0, count: shape.reduce(1, *)), elementType: input.elementType)
        }
        let names = graph.nodes.compactMap { $0.outputs.first { !$0.isEmpty } }
        let values = try session.run(feeds, outputs: names)
        return graph.nodes.compactMap { node -> Row? in
            guard let output = node.outputs.first(where: { !$0.isEmpty }), let tensor = values[output] else { return nil }
            let parameters = node.inputs.compactMap { graph.initializers[$0]?.count }.reduce(0, +)
            var macs = 0
            switch node.opType {
            case "Conv":
                if let weight = graph.initializers[node.inputs[1]] ?? values[node.inputs[1]] {
                    macs = tensor.count * weight.shape.dropFirst().reduce(1, *)
                }
            case "ConvTranspose":
                if let weight = graph.initializers[node.inputs[1]] {
                    let inputCount = values[node.inputs[0]]?.count ?? 0
                    macs = inputCount * weight.shape.dropFirst().reduce(1, *)
                }
            case "Gemm", "MatMul":
                if let b = graph.initializers[node.inputs[1]] ?? values[node.inputs[1]] {
                    let transB = (try? node.int("transB", default: 0)) ?? 0
                    let k = node.opType == "Gemm" && transB != 0 ? b.shape.last ?? 0 : (b.rank >= 2 ? b.shape[b.rank - 2] : b.shape[0])
                    macs = tensor.count * k
                }
            default: break
            }
            return Row(name: output, op: node.opType, shape: tensor.shape, parameters: parameters, macs: macs)
        }
    }
}
