/// A declared graph input or output: name, element type and shape (nil dims are symbolic).
public struct ValueInfo: Sendable {
    public var name: String
    public var elementType: ElementType
    public var shape: [Int?]?

    public init(name: String, elementType: ElementType, shape: [Int?]?) {
        self.name = name
        self.elementType = elementType
        self.shape = shape
    }

    /// The shape with every dimension known, or nil.
    public var staticShape: [Int]? {
        guard let shape, shape.allSatisfy({ $0 != nil }) else { return nil }
        return shape.map { $0! }
    }

    public var shapeDescription: String {
        guard let shape else { return "[?]" }
        return "[" + shape.map { $0.map(String.init) ?? "?" }.joined(separator: ",") + "]"
    }
}

/// A dataflow graph in topological order, with its constants.
public struct Graph: Sendable {
    public var name: String
    /// Nodes in an order where each node comes after the producers of its inputs.
    public var nodes: [Node]
    /// Constant tensors: initializers and the outputs of folded nodes.
    public var initializers: [String: Tensor]
    /// The inputs a caller feeds (graph inputs that have no initializer).
    public var inputs: [ValueInfo]
    public var outputs: [ValueInfo]

    public init(name: String, nodes: [Node], initializers: [String: Tensor], inputs: [ValueInfo], outputs: [ValueInfo]) {
        self.name = name
        self.nodes = nodes
        self.initializers = initializers
        self.inputs = inputs
        self.outputs = outputs
    }

    /// The index of the node that produces each tensor.
    public var producers: [String: Int] {
        var result = [String: Int]()
        for (index, node) in nodes.enumerated() {
            for output in node.outputs where !output.isEmpty { result[output] = index }
        }
        return result
    }

    /// The indices of the nodes that read each tensor, once per input slot that reads it.
    public var consumers: [String: [Int]] {
        var result = [String: [Int]]()
        for (index, node) in nodes.enumerated() {
            for input in node.inputs where !input.isEmpty { result[input, default: []].append(index) }
        }
        return result
    }

    /// Resolves a layer name: a tensor name, or a node name (meaning its first output).
    public func tensorName(forLayer layer: String) -> String? {
        if producers[layer] != nil || initializers[layer] != nil || inputs.contains(where: { $0.name == layer }) {
            return layer
        }
        return nodes.first { $0.name == layer }?.outputs.first
    }

    /// Every tensor name a node produces, in topological order.
    public var tensorNames: [String] { nodes.flatMap { $0.outputs.filter { !$0.isEmpty } } }
}

/// A loaded model: its graph plus what the file says about it.
public struct Model: Sendable {
    public var graph: Graph
    public var irVersion: Int
    /// The opset version of the default (ai.onnx) domain.
    public var opsetVersion: Int
    public var producer: String
    public var metadata: [String: String]
    /// Where the model was loaded from, for error messages.
    public var source: String

    public init(graph: Graph, irVersion: Int, opsetVersion: Int, producer: String = "",
                metadata: [String: String] = [:], source: String = "<memory>") {
        self.graph = graph
        self.irVersion = irVersion
        self.opsetVersion = opsetVersion
        self.producer = producer
        self.metadata = metadata
        self.source = source
    }
}

extension Graph {
    /// Names that `nodes` (and their subgraphs) read but neither they nor `defined` produce:
    /// the tensors a subgraph takes from the graphs around it.
    static func freeVariables(of nodes: [Node], defined: Set<String>) -> [String] {
        var produced = defined
        for node in nodes { produced.formUnion(node.outputs) }
        var free = [String]()
        var seen = Set<String>()
        for node in nodes {
            for name in node.inputs where !name.isEmpty && !produced.contains(name) && seen.insert(name).inserted { free.append(name) }
        }
        return free
    }

    /// The tensors this graph, as a subgraph, reads from enclosing graphs.
    public var freeVariables: [String] {
        Graph.freeVariables(of: nodes, defined: Set(initializers.keys).union(inputs.map(\.name)))
    }
}

extension Node {
    /// The node with the free variables of its subgraphs appended to its inputs, so that the
    /// enclosing graph orders it after their producers, keeps them alive until it runs, and
    /// hands them to its operator (If reads them after its condition).
    func withImplicitInputs() -> Node {
        var implicit = [String]()
        for (_, attribute) in attributes.sorted(by: { $0.key < $1.key }) {
            if case .graph(let graph) = attribute {
                for name in graph.freeVariables where !implicit.contains(name) && !inputs.contains(name) { implicit.append(name) }
            }
        }
        guard !implicit.isEmpty else { return self }
        var node = self
        node.inputs += implicit
        return node
    }
}
