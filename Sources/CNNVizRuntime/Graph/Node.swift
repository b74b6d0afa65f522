/// An attribute value of a node, as ONNX defines them (graphs and sparse tensors are not kept).
public enum Attribute: Sendable {
    case int(Int)
    case float(Float)
    case string(String)
    case ints([Int])
    case floats([Float])
    case strings([String])
    case tensor(Tensor)
    /// A subgraph (If's branches), whose nodes may read tensors of the enclosing graph.
    indirect case graph(Graph)
    case unsupported(String)
}

/// One operator application in the graph. Inputs and outputs are tensor names; an
/// optional input that is left out is the empty string, as in ONNX.
public struct Node: Sendable {
    public var name: String
    public var opType: String
    public var domain: String
    public var inputs: [String]
    public var outputs: [String]
    public var attributes: [String: Attribute]

    public init(name: String, opType: String, domain: String = "", inputs: [String], outputs: [String],
                attributes: [String: Attribute] = [:]) {
        self.name = name
        self.opType = opType
        self.domain = domain
        self.inputs = inputs
        self.outputs = outputs
        self.attributes = attributes
    }

    /// How errors name this node: `node 'conv1' (Conv)`, or its first output when it has no name.
    public var location: String {
        "node '\(name.isEmpty ? (outputs.first ?? "?") : name)' (\(opType))"
    }

    func attributeError(_ name: String, expected: String, found: Attribute) -> CNNVizError {
        CNNVizError(.invalidAttribute, "attribute '\(name)' should be \(expected), found \(found)", location: location)
    }

    public func int(_ name: String, default value: Int) throws -> Int {
        guard let attribute = attributes[name] else { return value }
        guard case .int(let v) = attribute else { throw attributeError(name, expected: "an int", found: attribute) }
        return v
    }

    public func float(_ name: String, default value: Float) throws -> Float {
        guard let attribute = attributes[name] else { return value }
        switch attribute {
        case .float(let v): return v
        case .int(let v): return Float(v)
        default: throw attributeError(name, expected: "a float", found: attribute)
        }
    }

    public func string(_ name: String, default value: String) throws -> String {
        guard let attribute = attributes[name] else { return value }
        guard case .string(let v) = attribute else { throw attributeError(name, expected: "a string", found: attribute) }
        return v
    }

    public func ints(_ name: String) throws -> [Int]? {
        guard let attribute = attributes[name] else { return nil }
        switch attribute {
        case .ints(let v): return v
        case .int(let v): return [v]
        default: throw attributeError(name, expected: "a list of ints", found: attribute)
        }
    }

    public func floats(_ name: String) throws -> [Float]? {
        guard let attribute = attributes[name] else { return nil }
        switch attribute {
        case .floats(let v): return v
        case .float(let v): return [v]
        default: throw attributeError(name, expected: "a list of floats", found: attribute)
        }
    }

    public func tensor(_ name: String) throws -> Tensor? {
        guard let attribute = attributes[name] else { return nil }
        guard case .tensor(let v) = attribute else { throw attributeError(name, expected: "a tensor", found: attribute) }
        return v
    }
}
