import Foundation

/// Observes, and optionally replaces, a named tensor while the graph runs.
/// Return nil to keep the tensor, or a tensor of the same shape to replace it downstream.
public typealias ActivationHook = (_ name: String, _ tensor: Tensor) throws -> Tensor?

/// Runs a model forward: the nodes that the requested outputs need, in topological order,
/// with activation hooks, freeing each intermediate tensor after its last use.
///
/// Built once per model: every node's operator is instantiated, and constant subgraphs —
/// including shape subgraphs when the declared input shapes are static — are folded to
/// constants. An unsupported op fails here, naming the op, the node and the opset, unless it
/// only ever runs inside a folded computation (a Range in a static-shape subgraph needs no
/// kernel at run time).
public final class Session {
    public let model: Model
    /// The graph after constant folding.
    public internal(set) var graph: Graph
    let operators: [any Operator]
    /// Nodes followed by their only consumer, a ReLU or a constant Clip: node index →
    /// (activation index, clamp). Conv applies the clamp in its own output pass; the other
    /// producers clamp their fresh output in place.
    let fusedActivations: [Int: (Int, Conv.Clamp)]
    /// Sigmoid nodes whose output only feeds x·σ(x): the Mul that SiLU runs as, by index.
    let fusedSiLU: [Int: Int]
    /// ReLU nodes whose only consumer can apply their mask in its own backward (`RectifierMasking`).
    let maskingConsumers: [Int: Int]
    /// Concat nodes whose only consumer reads their inputs as channel parts (`ChannelParts`).
    let channelPartReaders: [Int: Int]
    /// Nodes whose values follow from the input shapes alone (see `ShapeFolding`), and their
    /// values per input shape, folded after the first run at that shape.
    let shapeOnlyNodes: [Int]
    let shapeFolding = ShapeFoldingCache()
    /// The node index that produces each tensor of `graph`, built once.
    let producers: [String: Int]
    /// Accept any batch size on inputs whose declared batch dimension is fixed (many exports
    /// fix it to 1 although the graph handles any). Batched attribution sets it.
    public var acceptsAnyBatch = false
    /// The last forward pass, kept for the next on the same feeds (`forwardMemoLimit`).
    var forwardMemo: ForwardMemo?
    /// Called after each node with its wall time in milliseconds (for `cnn-viz run --profile`).
    public var profiler: ((_ node: Node, _ milliseconds: Double) -> Void)?

    /// How a QDQ model's quantized groups run.
    public enum QuantizedExecution: Sendable {
        /// As onnxruntime runs them: each group one integer op (`QDQFusion`); no gradients.
        case integer
        /// Each QuantizeLinear → DequantizeLinear pair one float op with a straight-through
        /// gradient (`FakeQuantize`), for attribution; values within a step or so of `integer`.
        case fakeQuantized
    }

    public init(model: Model, quantization: QuantizedExecution = .integer) throws {
        self.model = model
        let opset = model.opsetVersion
        var graph = quantization == .integer ? QDQFusion.fused(model.graph) : FakeQuantization.rewritten(model.graph)
        var operators = [any Operator]()
        for node in graph.nodes {
            do {
                operators.append(try OperatorRegistry.build(node, opset: opset))
            } catch let error as CNNVizError where error.code == .unsupportedOperator {
                operators.append(UnsupportedOperator(error: error.located(at: model.source)))
            } catch let error as CNNVizError {
                throw error.located(at: model.source)
            }
        }
        (graph, operators) = try Session.foldConstants(graph, operators: operators, source: model.source)
        if let unsupported = operators.lazy.compactMap({ $0 as? UnsupportedOperator }).first { throw unsupported.error }
        self.graph = graph
        self.producers = graph.producers
        self.operators = operators
        self.fusedActivations = Session.activationPairs(graph, operators: operators)
        self.fusedSiLU = Session.siluPairs(graph)
        self.maskingConsumers = Session.maskingConsumers(graph, operators: operators)
        self.channelPartReaders = Session.channelPartReaders(graph, operators: operators)
        self.shapeOnlyNodes = Session.shapeOnlyNodes(graph)
    }

    public convenience init(contentsOf url: URL) throws {
        try self.init(model: try ONNXImporter.load(contentsOf: url))
    }

    /// Evaluates, at load time, every node whose inputs are all constants, and every Shape node
    /// whose input shape is known statically; such nodes leave the graph.
    static func foldConstants(_ graph: Graph, operators: [any Operator], source: String) throws -> (Graph, [any Operator]) {
        var constants = graph.initializers
        var shapes = [String: [Int]]()
        for input in graph.inputs { if let shape = input.staticShape { shapes[input.name] = shape } }
        for (name, tensor) in constants { shapes[name] = tensor.shape }
        var keptNodes = [Node](), keptOperators = [any Operator]()
        for (node, op) in zip(graph.nodes, operators) {
            let inputs = node.inputs.filter { !$0.isEmpty }
            var folded: [Tensor]? = nil
            if node.opType == "Shape", let input = inputs.first, let shape = shapes[input] {
                let start = try node.int("start", default: 0)
                let end = node.attributes["end"] == nil ? nil : try node.int("end", default: 0)
                folded = [Tensor.int64Vector(ShapeOf.slice(shape, start: start, end: end))]
            } else if inputs.allSatisfy({ constants[$0] != nil }) {
                do {
                    folded = try op.forward(node.inputs.map { $0.isEmpty ? nil : constants[$0] })
                } catch let error as CNNVizError {
                    throw error.located(at: node.location).located(at: source)
                }
            }
            if let folded {
                for (name, tensor) in zip(node.outputs, folded) where !name.isEmpty {
                    constants[name] = tensor
                    shapes[name] = tensor.shape
                }
                continue
            }
            keptNodes.append(node)
            keptOperators.append(op)
            let inputShapes = node.inputs.map { $0.isEmpty ? nil : shapes[$0] }
            if let shape = ShapeInference.outputShape(of: node, inputShapes: inputShapes), let output = node.outputs.first {
                shapes[output] = shape
            }
        }
        var folded = graph
        folded.nodes = keptNodes
        folded.initializers = constants
        return (folded, keptOperators)
    }

    /// Ops that take STRING tensors (held as hashes): equality, and ops that only move elements.
    static let textOps: Set<String> = ["Equal", "Identity", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose", "Concat",
                                       "Gather", "GatherElements", "GatherND", "Slice", "Split", "Expand", "Tile", "Shape", "Size", "Where"]

    /// Op types whose output an activation can be folded into.
    static let fusableProducers: Set<String> = ["Conv", "Add", "Sum", "BatchNormalization", "Gemm", "MatMul"]

    /// Producers whose only consumer is a Relu or a Clip with constant bounds (ReLU6): they can
    /// clamp their own output when nobody asked to see the unclamped tensor itself.
    static func activationPairs(_ graph: Graph, operators: [any Operator]) -> [Int: (Int, Conv.Clamp)] {
        let consumers = graph.consumers
        let outputs = Set(graph.outputs.map(\.name))
        var pairs = [Int: (Int, Conv.Clamp)]()
        for (index, node) in graph.nodes.enumerated() where fusableProducers.contains(node.opType) && node.outputs.count == 1 {
            guard let output = node.outputs.first, !outputs.contains(output),
                  let users = consumers[output], users.count == 1 else { continue }
            let user = graph.nodes[users[0]]
            if user.opType == "Relu" {
                pairs[index] = (users[0], .relu)
            } else if user.opType == "Clip", let clip = operators[users[0]] as? Clip {
                func bound(_ i: Int, _ fallback: Float) -> Float? {
                    guard i < user.inputs.count, !user.inputs[i].isEmpty else { return fallback }
                    return graph.initializers[user.inputs[i]]?.floats.first
                }
                guard let low = clip.attributeLow ?? bound(1, -.infinity), let high = clip.attributeHigh ?? bound(2, .infinity) else { continue }
                pairs[index] = (users[0], Conv.Clamp(low: low, high: high))
            }
        }
        return pairs
    }

    /// SiLU as exported (YOLO, EfficientNet): s = Sigmoid(x) whose only reader is Mul(x, s) or
    /// Mul(s, x). When nobody asks for s, the pair runs as one vectorised pass x·σ(x), with no
    /// s tensor in memory. A gradient pass keeps s (the backward rules read it), so it runs
    /// the two nodes as they are.
    static func siluPairs(_ graph: Graph) -> [Int: Int] {
        let consumers = graph.consumers
        let outputs = Set(graph.outputs.map(\.name))
        var pairs = [Int: Int]()
        for (index, node) in graph.nodes.enumerated() where node.opType == "Sigmoid" && node.inputs.count == 1 && node.outputs.count == 1 {
            let (x, s) = (node.inputs[0], node.outputs[0])
            guard !outputs.contains(s), x != s, let users = consumers[s], users.count == 1 else { continue }
            let mul = graph.nodes[users[0]]
            if mul.opType == "Mul", mul.inputs.count == 2, Set(mul.inputs) == [x, s] { pairs[index] = users[0] }
        }
        return pairs
    }

    /// Names accepted as layers: tensor names, and node names (meaning the node's first output).
    public func resolveTensorName(_ layer: String) throws -> String {
        if producers[layer] != nil || graph.initializers[layer] != nil || graph.inputs.contains(where: { $0.name == layer }) {
            return layer
        }
        if let name = graph.tensorName(forLayer: layer) ?? model.graph.tensorName(forLayer: layer) { return name }
        let nearest = NameSuggestions.nearest(to: layer, in: graph.tensorNames + graph.inputs.map(\.name) + graph.nodes.map(\.name))
        throw CNNVizError(.unknownTensor,
                          "no tensor or node named '\(layer)'; nearest names: \(nearest.joined(separator: ", ")) (cnn-viz summary lists them all)",
                          location: model.source)
    }

    /// Runs the graph.
    ///
    /// - Parameters:
    ///   - feeds: a tensor per graph input (see `graph.inputs`).
    ///   - outputs: tensor or node names to return; nil means the graph outputs.
    ///   - hooks: called with each named tensor as soon as it is computed; a returned tensor
    ///     replaces it for every consumer downstream (and in the results).
    /// - Returns: the requested tensors by name (node names map to their first output).
    ///   - given: tensors, by name, to use instead of computing them: the nodes that only they
    ///     need do not run (e.g. a batch of edited activations fed in at a layer).
    public func run(_ feeds: [String: Tensor], outputs requested: [String]? = nil,
                    hooks: [String: ActivationHook] = [:], given: [String: Tensor] = [:]) throws -> [String: Tensor] {
        let wanted = try (requested ?? graph.outputs.map(\.name)).map { ($0, try resolveTensorName($0)) }
        var resolvedGiven = [String: Tensor]()
        for (name, tensor) in given { resolvedGiven[try resolveTensorName(name)] = tensor }
        let values = try execute(feeds, keeping: Set(wanted.map(\.1)), hooks: hooks, given: resolvedGiven)
        var result = [String: Tensor]()
        for (asked, name) in wanted { result[asked] = try value(name, in: values) }
        return result
    }

    /// A computed tensor or a constant, by resolved name.
    func value(_ name: String, in values: [String: Tensor]) throws -> Tensor {
        guard let tensor = values[name] ?? graph.initializers[name] else {
            throw CNNVizError(.unknownTensor, "tensor '\(name)' was not produced", location: model.source)
        }
        return tensor
    }

    /// Runs the nodes that `kept` and the hooks need and returns the computed tensors; every
    /// name in `kept` (resolved tensor names) is among them. The others, hooked ones included,
    /// are freed after their last use, so that hooking every tensor (a diff spilling each
    /// layer to disk) holds no more memory than a plain run.
    ///   - keepingEverything: free nothing (a pass the `ForwardMemo` keeps whole).
    ///   - shapes: if given, receives the shape of every tensor computed, kept or not.
    func executeNodes(_ feeds: [String: Tensor], keeping kept: Set<String>,
                      hooks: [String: ActivationHook], given: [String: Tensor] = [:], keepingEverything: Bool = false,
                      shapes: UnsafeMutablePointer<[String: [Int]]>? = nil) throws -> [String: Tensor] {
        var values = try validatedFeeds(feeds)
        values.merge(given) { _, new in new }
        for (name, tensor) in values { shapes?.pointee[name] = tensor.shape }
        var resolvedHooks = [String: ActivationHook]()
        for (name, hook) in hooks { resolvedHooks[try resolveTensorName(name)] = hook }
        let targets = kept.union(resolvedHooks.keys)
        // Constants and inputs that are hooked get their hook applied up front.
        for name in resolvedHooks.keys where producers[name] == nil {
            guard let tensor = values[name] ?? graph.initializers[name] else { continue }
            if let replacement = try resolvedHooks[name]!(name, tensor) {
                try checkReplacement(replacement, for: tensor, name: name)
                values[name] = replacement
            }
        }

        let needed = neededNodes(for: targets, stoppingAt: Set(given.keys))
        let neededSet = Set(needed)
        // Concats whose reader takes the parts: the reader reads the Concat's inputs instead.
        let partReaders = activePartReaders(needed: neededSet, targets: targets)
        let skippedConcats = Set(partReaders.values)
        func reads(_ index: Int) -> [String] {
            if let concat = partReaders[index] { return graph.nodes[concat].inputs }
            return skippedConcats.contains(index) ? [] : graph.nodes[index].inputs
        }
        var lastUse = [String: Int]()
        for index in needed {
            for input in reads(index) where !input.isEmpty { lastUse[input] = index }
        }
        var skip = skippedConcats
        /// Frees the tensors whose last reader is node `index`, unless they are to be kept.
        func release(after index: Int) {
            guard !keepingEverything else { return }
            for name in reads(index) where !name.isEmpty && lastUse[name] == index && !kept.contains(name) {
                values[name] = nil
            }
        }
        func value(_ name: String, for node: Node) throws -> Tensor {
            guard let value = values[name] ?? graph.initializers[name] else {
                throw CNNVizError(.invalidModel, "input '\(name)' has not been computed", location: node.location)
            }
            return value
        }
        for index in needed {
            if skip.contains(index) {
                release(after: index)
                continue
            }
            let node = graph.nodes[index]
            var parts: [Tensor]?, reader = operators[index] as? ReadsChannelParts
            if let concat = partReaders[index] {
                // The Concat was skipped: its reader takes the parts, or, when they don't suit
                // it, the Concat runs now and the reader reads its output as usual.
                let joining = graph.nodes[concat]
                parts = try joining.inputs.map { try value($0, for: joining) }
                if reader?.accepts(parts: parts!) != true {
                    values[joining.outputs[0]] = try located(at: joining) { try operators[concat].forward(parts!)[0] }
                    shapes?.pointee[joining.outputs[0]] = values[joining.outputs[0]]!.shape
                    parts = nil
                }
            }
            let inputs = try node.inputs.enumerated().map { slot, name -> Tensor? in
                name.isEmpty || (slot == 0 && parts != nil) ? nil : try value(name, for: node)
            }
            if inputs.contains(where: { $0?.elementType.isText == true }) && !Session.textOps.contains(node.opType) {
                throw CNNVizError(.unsupportedDataType, "\(node.opType) does not take STRING tensors; cnn-viz compares and moves them only (\(Session.textOps.sorted().joined(separator: ", ")))",
                                  location: node.location).located(at: model.source)
            }
            var results = [Tensor]()
            var outputNames = node.outputs
            let started = profiler == nil ? 0 : DispatchTime.now().uptimeNanoseconds
            defer {
                if let profiler { profiler(node, Double(DispatchTime.now().uptimeNanoseconds - started) / 1e6) }
            }
            try located(at: node) {
                var fused = fusedActivations[index]
                if let (activation, _) = fused, targets.contains(node.outputs[0]) || !neededSet.contains(activation) { fused = nil }
                if let parts, let reader {
                    results = try reader.forward(parts: parts)
                } else if let (activation, clamp) = fused {
                    if let conv = operators[index] as? Conv {
                        results = [try conv.convolve(inputs, clamp: clamp)]
                    } else {
                        results = try operators[index].forward(inputs)
                        results[0].clampInPlace(low: clamp.low, high: clamp.high)
                    }
                    outputNames = graph.nodes[activation].outputs
                    skip.insert(activation)
                } else if let mul = fusedSiLU[index], !targets.contains(node.outputs[0]), neededSet.contains(mul),
                          let x = inputs[0], x.isFloatingPoint {
                    results = [Pointwise.apply(Activations.SiLU(), to: x)]
                    outputNames = graph.nodes[mul].outputs
                    skip.insert(mul)
                } else {
                    results = try operators[index].forward(inputs)
                }
            }
            for (name, var tensor) in zip(outputNames, results) where !name.isEmpty {
                if let hook = resolvedHooks[name], let replacement = try hook(name, tensor) {
                    try checkReplacement(replacement, for: tensor, name: name)
                    tensor = replacement
                }
                shapes?.pointee[name] = tensor.shape
                values[name] = tensor
            }
            release(after: index)
        }
        return values
    }

    /// Runs `body`, naming the node and the model file in any error it throws.
    func located<R>(at node: Node, _ body: () throws -> R) throws -> R {
        do {
            return try body()
        } catch let error as CNNVizError {
            let located = error.location == nil ? error.located(at: node.location) : error
            throw located.location?.hasPrefix(model.source) == true ? located : located.located(at: model.source)
        }
    }

    func checkReplacement(_ replacement: Tensor, for original: Tensor, name: String) throws {
        guard replacement.shape == original.shape else {
            throw CNNVizError(.shapeMismatch,
                              "a hook replaced tensor '\(name)' of shape \(original.shape) with one of shape \(replacement.shape)")
                .with(tensor: name, expectedShape: original.shape, foundShape: replacement.shape)
        }
    }

    /// Indices of the nodes that the targets depend on, in topological order.
    func neededNodes(for targets: Set<String>, stoppingAt given: Set<String> = []) -> [Int] {
        var needed = Set<Int>()
        var stack = targets.subtracting(given).compactMap { producers[$0] }
        while let index = stack.popLast() {
            guard needed.insert(index).inserted else { continue }
            for input in graph.nodes[index].inputs where !input.isEmpty && !given.contains(input) {
                if let producer = producers[input] { stack.append(producer) }
            }
        }
        return needed.sorted()
    }

    /// Checks that every graph input is fed with a compatible element type and shape.
    func validatedFeeds(_ feeds: [String: Tensor]) throws -> [String: Tensor] {
        var values = [String: Tensor]()
        for input in graph.inputs {
            guard var tensor = feeds[input.name] else {
                let expected = graph.inputs.map { "'\($0.name)' \($0.elementType)\($0.shapeDescription)" }.joined(separator: ", ")
                throw CNNVizError(.invalidArgument, "no tensor given for model input '\(input.name)'; the model takes \(expected)",
                                  location: model.source)
            }
            if let declared = input.shape {
                let matches = declared.count == tensor.rank && zip(declared, tensor.shape).enumerated().allSatisfy { axis, pair in
                    pair.0 == nil || pair.0 == pair.1 || (axis == 0 && acceptsAnyBatch)
                }
                guard matches else {
                    throw CNNVizError(.shapeMismatch,
                                      "input '\(input.name)' expects shape \(input.shapeDescription), found \(tensor.shape)",
                                      location: model.source)
                        .with(file: model.source, tensor: input.name, expectedShape: declared, foundShape: tensor.shape)
                }
            }
            if input.elementType.isFloatingPoint != tensor.isFloatingPoint {
                throw CNNVizError(.unsupportedDataType,
                                  "input '\(input.name)' expects \(input.elementType), found \(tensor.elementType)", location: model.source)
            }
            if input.elementType == .float16 && tensor.elementType != .float16 {
                tensor = Cast.convert(tensor, to: .float16)
            }
            values[input.name] = tensor
        }
        return values
    }
}

/// Stands in for a node whose op has no kernel while constants are folded: it fails with the
/// unsupported-op error if it ever has to run.
struct UnsupportedOperator: Operator {
    let error: CNNVizError
    func forward(_ inputs: [Tensor?]) throws -> [Tensor] { throw error }
}
