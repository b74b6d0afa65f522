/// Per-layer facts about a model: output shape, parameter count, multiply-accumulates and
/// receptive field, found by running the model once on zeros of its declared input shape
/// (symbolic dims = 1); and totals, with parameter and activation memory in Float32 bytes.
public enum ModelSummary {
    public struct Row: Sendable {
        public var name: String
        public var op: String
        public var shape: [Int]
        public var parameters: Int
        public var macs: Int
        /// Nil for non-spatial layers (Flatten, Gemm, …) and ops it is not computed for.
        public var receptiveField: ReceptiveField?
        /// Why the receptive field is missing, approximate or global, when there is a reason to give.
        public var note: String?
    }

    public struct Totals: Sendable, Equatable {
        public var layers: Int
        public var parameters: Int
        public var macs: Int
        /// parameters × 4 (Float32).
        public var parameterBytes: Int
        /// See `ActivationMemory`.
        public var activationBytes: Int
        public var peakActivationBytes: Int
    }

    public struct Summary: Sendable {
        public var layers: [Row]
        public var totals: Totals
    }

    public static func rows(for session: Session) throws -> [Row] {
        try summary(for: session).layers
    }

    public static func summary(for session: Session) throws -> Summary {
        let graph = session.graph
        var feeds = [String: Tensor]()
        for input in graph.inputs {
            let shape = (input.shape ?? []).map { $0 ?? 1 }
            feeds[input.name] = input.elementType.isFloatingPoint
                ? Tensor.zeros(shape)
                : Tensor(shape: shape, integers: [Int64](repeating: 0, count: shape.reduce(1, *)), elementType: input.elementType)
        }
        let values = try session.run(feeds, outputs: graph.tensorNames).merging(feeds) { computed, _ in computed }
        let fields = try ReceptiveFieldPropagation.entries(of: session, shapes: values.mapValues(\.shape))
        let rows = graph.nodes.compactMap { node -> Row? in
            guard let output = node.outputs.first(where: { !$0.isEmpty }), let tensor = values[output] else { return nil }
            let parameters = node.inputs.compactMap { graph.initializers[$0]?.count }.reduce(0, +)
            return Row(name: output, op: node.opType, shape: tensor.shape, parameters: parameters,
                       macs: macs(of: node, output: tensor, values: values, graph: graph),
                       receptiveField: fields[output]?.field, note: fields[output]?.note)
        }
        let memory = ActivationMemory(graph: graph, elementCounts: values.mapValues(\.count))
        let parameters = rows.reduce(0) { $0 + $1.parameters }
        let totals = Totals(layers: rows.count, parameters: parameters, macs: rows.reduce(0) { $0 + $1.macs },
                            parameterBytes: parameters * MemoryLayout<Float>.size,
                            activationBytes: memory.summedBytes, peakActivationBytes: memory.peakBytes)
        return Summary(layers: rows, totals: totals)
    }

    static func macs(of node: Node, output tensor: Tensor, values: [String: Tensor], graph: Graph) -> Int {
        switch node.opType {
        case "Conv":
            if let weight = graph.initializers[node.inputs[1]] ?? values[node.inputs[1]] {
                return tensor.count * weight.shape.dropFirst().reduce(1, *)
            }
        case "ConvTranspose":
            if let weight = graph.initializers[node.inputs[1]] {
                let inputCount = values[node.inputs[0]]?.count ?? 0
                return inputCount * weight.shape.dropFirst().reduce(1, *)
            }
        case "Gemm", "MatMul":
            if let b = graph.initializers[node.inputs[1]] ?? values[node.inputs[1]] {
                let transB = (try? node.int("transB", default: 0)) ?? 0
                let k = node.opType == "Gemm" && transB != 0 ? b.shape.last ?? 0 : (b.rank >= 2 ? b.shape[b.rank - 2] : b.shape[0])
                return tensor.count * k
            }
        default: break
        }
        return 0
    }
}

extension ModelSummary.Row: Encodable {
    enum CodingKeys: String, CodingKey { case name, op, shape, parameters, macs, receptiveField = "receptive_field", note }

    /// `receptive_field` is always present: null for non-spatial layers.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(op, forKey: .op)
        try container.encode(shape, forKey: .shape)
        try container.encode(parameters, forKey: .parameters)
        try container.encode(macs, forKey: .macs)
        try container.encode(receptiveField, forKey: .receptiveField)
        try container.encodeIfPresent(note, forKey: .note)
    }
}

extension ModelSummary.Totals: Encodable {
    enum CodingKeys: String, CodingKey {
        case layers, parameters, macs, parameterBytes = "parameter_bytes", activationBytes = "activation_bytes"
        case peakActivationBytes = "peak_activation_bytes"
    }
}

extension ModelSummary.Summary: Encodable {}
