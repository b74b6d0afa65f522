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
                _ = try Shape.checkedCount(shape)
                shapes[input.name] = shape
                continue
            }
            guard let declared = input.shape else {
                throw CNNVizError(.invalidArgument, "input '\(input.name)' declares no shape; give one with --input-shape (e.g. 1x3x224x224)",
                                  location: session.model.source).with(tensor: input.name)
            }
            let dynamic = declared.indices.filter { declared[$0] == nil && $0 > 0 }
            guard dynamic.isEmpty else {
                throw CNNVizError(.invalidArgument,
                                  "input '\(input.name)' \(input.shapeDescription) has dynamic dims at axes \(dynamic); give its shape with --input-shape (e.g. --input-shape \(declared.enumerated().map { $0.element.map(String.init) ?? ($0.offset == 0 ? "1" : "640") }.joined(separator: "x"))), a --tensor or an image",
                                  location: session.model.source).with(tensor: input.name)
            }
            let shape = declared.map { $0 ?? 1 }
            do { _ = try Shape.checkedCount(shape) } catch let error as CNNVizError {
                throw CNNVizError(error.code, "input '\(input.name)' declares \(input.shapeDescription): \(error.message)", location: session.model.source)
                    .with(tensor: input.name)
            }
            shapes[input.name] = shape
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
        // Only shapes are kept, not tensors: memory stays that of a plain forward pass, whatever the depth.
        var shapes = [String: [Int]]()
        // A no-op hook on every tensor makes every node run; hooked tensors are freed after their last use.
        let everyTensor = Dictionary(uniqueKeysWithValues: graph.tensorNames.map { ($0, { (_: String, _: Tensor) -> Tensor? in nil } as ActivationHook) })
        _ = try session.execute(feeds, keeping: [], hooks: everyTensor, shapes: &shapes)
        for (name, tensor) in graph.initializers { shapes[name] = tensor.shape }
        let fields = try ReceptiveFieldPropagation.entries(of: session, shapes: shapes)
        let weights = session.model.graph.initializers.filter { $0.value.isFloatingPoint }
        var counted = Set<String>()
        let rows = graph.nodes.compactMap { node -> Row? in
            guard let output = node.outputs.first(where: { !$0.isEmpty }), let shape = shapes[output] else { return nil }
            let parameters = node.inputs.filter { weights[$0] != nil && counted.insert($0).inserted }.compactMap { weights[$0]?.count }.reduce(0, +)
            return Row(name: output, op: node.opType, shape: shape, parameters: parameters,
                       macs: macs(of: node, outputShape: shape, shapes: shapes),
                       receptiveField: fields[output]?.field, note: fields[output]?.note)
        }
        let memory = ActivationMemory(graph: graph, elementCounts: shapes.filter { graph.initializers[$0.key] == nil }.mapValues { $0.reduce(1, *) })
        let parameters = rows.reduce(0) { $0 + $1.parameters }
        let totals = Totals(layers: rows.count, parameters: parameters, macs: rows.reduce(0) { $0 + $1.macs },
                            parameterBytes: parameters * MemoryLayout<Float>.size,
                            activationBytes: memory.summedBytes, peakActivationBytes: memory.peakBytes)
        return Summary(layers: rows, totals: totals)
    }

    /// Multiply-accumulates of one node from its input and output shapes (see the type's comment).
    static func macs(of node: Node, outputShape: [Int], shapes: [String: [Int]]) -> Int {
        func shape(_ index: Int) -> [Int]? { index < node.inputs.count ? shapes[node.inputs[index]] : nil }
        let outputCount = outputShape.reduce(1, *)
        switch node.opType {
        case "Conv":
            if let weight = shape(1) { return outputCount * weight.dropFirst().reduce(1, *) }
        case "ConvTranspose":
            if let weight = shape(1), let x = shape(0) { return x.reduce(1, *) * weight.dropFirst().reduce(1, *) }
        case "Gemm", "MatMul":
            if let b = shape(1), !b.isEmpty {
                let transB = (try? node.int("transB", default: 0)) ?? 0
                let k = node.opType == "Gemm" && transB != 0 ? b.last! : (b.count >= 2 ? b[b.count - 2] : b[0])
                return outputCount * k
            }
        case "LSTM", "GRU", "RNN":
            // W [D, G·H, I], R [D, G·H, H]: every step of every sequence multiplies both.
            if let x = shape(0), let w = shape(1), let r = shape(2), w.count == 3, r.count == 3, w[2] > 0 {
                return x.reduce(1, *) / w[2] * w[0] * w[1] * (w[2] + r[2])
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
