/// Per-layer facts about a model: output shape, parameter count, multiply-accumulates and
/// receptive field, found by running the model once on zeros of its input shape; and totals,
/// with parameter and activation memory in Float32 bytes.
///
/// The input shape is the declared one, with any dim given in `inputShapes`. A dynamic batch
/// dim alone is taken as 1 (the facts are per image); any other dynamic dim must be given —
/// shapes computed from placeholder 1s would be wrong, not approximate.
/// Parameters are the elements of the model's floating-point initializers, each counted once
/// (weights stored in Constant nodes are not counted). MACs: Conv output elements × C_in/group
/// × ∏kernel; ConvTranspose input elements × C_out/group × ∏kernel; Gemm and MatMul output
/// elements × K; LSTM, GRU and RNN steps × batch × directions × gates·H·(I + H).
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

    public static func rows(for session: Session, inputShapes: [String: [Int]] = [:]) throws -> [Row] {
        try summary(for: session, inputShapes: inputShapes).layers
    }

    /// The concrete shape of every graph input: `given` where it names the input, else the
    /// declared shape with a dynamic batch dim as 1. Throws, naming the input and its dynamic
    /// dims, when another dim is unknown.
    public static func inputShapes(of session: Session, given: [String: [Int]]) throws -> [String: [Int]] {
        var shapes = [String: [Int]]()
        for name in given.keys where !session.graph.inputs.contains(where: { $0.name == name }) {
            throw CNNVizError(.invalidArgument, "--input-shape names '\(name)', which is not an input of the model; its inputs are \(session.graph.inputs.map { "'\($0.name)' \($0.shapeDescription)" }.joined(separator: ", "))")
        }
        for input in session.graph.inputs {
            if let shape = given[input.name] {
                if let declared = input.shape {
                    let fits = declared.count == shape.count && zip(declared, shape).enumerated().allSatisfy { $0.element.0 == nil || $0.element.0 == $0.element.1 || $0.offset == 0 }
                    guard fits else {
                        throw CNNVizError(.shapeMismatch, "--input-shape \(shape) does not fit input '\(input.name)' declared as \(input.shapeDescription)")
                            .with(tensor: input.name, foundShape: shape)
                    }
                }
                shapes[input.name] = shape
                continue
            }
            guard let declared = input.shape else {
                throw CNNVizError(.invalidArgument, "input '\(input.name)' declares no shape; give one with --input-shape (e.g. 1x3x224x224)")
            }
            let dynamic = declared.indices.filter { declared[$0] == nil && $0 > 0 }
            guard dynamic.isEmpty else {
                throw CNNVizError(.invalidArgument,
                                  "input '\(input.name)' \(input.shapeDescription) has dynamic dims at axes \(dynamic); give its shape with --input-shape (e.g. --input-shape \(declared.enumerated().map { $0.element.map(String.init) ?? ($0.offset == 0 ? "1" : "640") }.joined(separator: "x"))), a --tensor or an image")
            }
            shapes[input.name] = declared.map { $0 ?? 1 }
        }
        return shapes
    }

    public static func summary(for session: Session, inputShapes given: [String: [Int]] = [:]) throws -> Summary {
        let graph = session.graph
        let inputShapes = try inputShapes(of: session, given: given)
        var feeds = [String: Tensor]()
        for input in graph.inputs {
            let shape = inputShapes[input.name]!
            feeds[input.name] = input.elementType.isFloatingPoint
                ? Tensor.zeros(shape)
                : Tensor(shape: shape, integers: [Int64](repeating: 0, count: shape.reduce(1, *)), elementType: input.elementType)
        }
        let values = try session.run(feeds, outputs: graph.tensorNames).merging(feeds) { computed, _ in computed }
        let fields = try ReceptiveFieldPropagation.entries(of: session, shapes: values.mapValues(\.shape))
        let weights = session.model.graph.initializers.filter { $0.value.isFloatingPoint }
        var counted = Set<String>()
        let rows = graph.nodes.compactMap { node -> Row? in
            guard let output = node.outputs.first(where: { !$0.isEmpty }), let tensor = values[output] else { return nil }
            let parameters = node.inputs.filter { weights[$0] != nil && counted.insert($0).inserted }.compactMap { weights[$0]?.count }.reduce(0, +)
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
        case "LSTM", "GRU", "RNN":
            // W [D, G·H, I], R [D, G·H, H]: every step of every sequence multiplies both.
            if let x = values[node.inputs[0]], let w = graph.initializers[node.inputs[1]] ?? values[node.inputs[1]],
               let r = graph.initializers[node.inputs[2]] ?? values[node.inputs[2]], w.rank == 3, r.rank == 3, w.shape[2] > 0 {
                return x.count / w.shape[2] * w.shape[0] * w.shape[1] * (w.shape[2] + r.shape[2])
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
