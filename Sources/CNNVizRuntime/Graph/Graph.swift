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
