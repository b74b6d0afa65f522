import Foundation
import ONNXProto
import SwiftProtobuf

/// Reads ONNX model files into `Model`s.
///
/// Handles IR versions 3 and later: initializers that are also listed as graph inputs
/// (old IR) are constants, and the real inputs are the graph inputs without one.
/// Nodes are put into topological order; a cycle or a tensor nobody produces is an error.
public enum ONNXImporter {
    public static func load(contentsOf url: URL) throws -> Model {
        InputProtection.protect([url])
        let data = try FileRead.data(contentsOf: url, what: "the model file", options: .mappedIfSafe)
        do {
            return try load(data: data, directory: url.deletingLastPathComponent(), source: url.path)
        } catch let error as CNNVizError {
            throw (error.location?.hasPrefix(url.path) == true ? error : error.located(at: url.path)).with(file: url.path)
        }
    }

    public static func load(data: Data, directory: URL? = nil, source: String = "<memory>") throws -> Model {
        guard !data.isEmpty else { throw CNNVizError(.corruptFile, "the file is empty; expected an ONNX ModelProto") }
        let proto: Onnx_ModelProto
        do {
            proto = try Onnx_ModelProto(serializedBytes: data)
        } catch {
            throw CNNVizError(.corruptFile,
                              "not a valid ONNX model: the protobuf data is truncated or corrupt (\(data.count) bytes)",
                              cause: error)
        }
        guard proto.hasIrVersion, proto.irVersion >= 1, proto.hasGraph else {
            throw CNNVizError(.corruptFile,
                              "not an ONNX model: expected a ModelProto with ir_version and graph, found ir_version \(proto.irVersion) and \(proto.hasGraph ? "a" : "no") graph")
        }
        let declaredOpset = proto.opsetImport.first { $0.domain.isEmpty || $0.domain == "ai.onnx" }.map { Int($0.version) }
        try ModelValidation.checkVersions(irVersion: Int(proto.irVersion), opset: declaredOpset)
        let opset = declaredOpset!
        let graph = try importGraph(proto.graph, opset: opset, directory: directory)
        var metadata = [String: String]()
        for entry in proto.metadataProps { metadata[entry.key] = entry.value }
        return Model(graph: graph, irVersion: Int(proto.irVersion), opsetVersion: opset,
                     producer: proto.producerName, metadata: metadata, source: source)
    }

    /// A graph, or (`isSubgraph`) an If branch, whose nodes may read names of the enclosing
    /// graphs: those are checked when the enclosing graph is sorted, as the implicit inputs that
    /// `Graph.withImplicitInputs` gives the node that owns the branch.
    static func importGraph(_ proto: Onnx_GraphProto, opset: Int, directory: URL?, isSubgraph: Bool = false) throws -> Graph {
        var initializers = [String: Tensor]()
        for initializer in proto.initializer {
            guard initializers[initializer.name] == nil else {
                throw CNNVizError(.invalidModel, "initializer '\(initializer.name)' is defined twice; each tensor name must be defined once")
                    .with(tensor: initializer.name)
            }
            initializers[initializer.name] = try ONNXTensor.decode(initializer, directory: directory)
        }
        let inputs = try proto.input.filter { initializers[$0.name] == nil }.map(valueInfo)
        let outputs = try proto.output.map(valueInfo)
        guard !outputs.isEmpty else { throw CNNVizError(.invalidModel, "the graph declares no outputs") }
        var nodes = try proto.node.enumerated().map { index, node in try importNode(node, index: index, opset: opset, directory: directory) }
        try ModelValidation.checkSingleDefinitions(nodes, inputs: inputs.map(\.name), initializers: Set(initializers.keys))
        let declared = Dictionary(inputs.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for node in nodes { try ModelValidation.check(node, opset: opset, constants: initializers, declared: declared) }
        nodes = nodes.map { $0.withImplicitInputs() }
        var available = Set(initializers.keys).union(inputs.map(\.name))
        if isSubgraph { available.formUnion(Graph.freeVariables(of: nodes, defined: available)) }
        let sorted = try topologicallySorted(nodes, available: available)
        let produced = Set(sorted.flatMap(\.outputs)).union(available)
        for output in outputs where !produced.contains(output.name) {
            throw CNNVizError(.invalidModel, "graph output '\(output.name)' is produced by no node")
        }
        return Graph(name: proto.name, nodes: sorted, initializers: initializers, inputs: inputs, outputs: outputs)
    }

    static func valueInfo(_ proto: Onnx_ValueInfoProto) throws -> ValueInfo {
        guard case .tensorType(let tensorType)? = proto.type.value else {
            let kind = proto.type.value.map { "\($0)".split(separator: "(").first.map(String.init) ?? "?" } ?? "no type"
            throw CNNVizError(.unsupportedDataType, "graph value '\(proto.name)' is \(kind); cnn-viz handles tensors only")
        }
        guard let type = ElementType(rawValue: Int(tensorType.elemType)), type.isSupported else {
            let name = ElementType(rawValue: Int(tensorType.elemType))?.description ?? "type \(tensorType.elemType)"
            throw CNNVizError(.unsupportedDataType,
                              "graph value '\(proto.name)' is \(name); cnn-viz supports FLOAT, FLOAT16, DOUBLE, integer and BOOL tensors")
        }
        let shape: [Int?]? = tensorType.hasShape
            ? tensorType.shape.dim.map { dim in
                // 0 and negative values (Paddle writes -1) mean "unknown", as in onnxruntime.
                if case .dimValue(let v)? = dim.value, v > 0 { return Int(v) }
                return nil
            }
            : nil
        return ValueInfo(name: proto.name, elementType: type, shape: shape)
    }

    static func importNode(_ proto: Onnx_NodeProto, index: Int, opset: Int, directory: URL?) throws -> Node {
        var attributes = [String: Attribute]()
        let name = proto.name.isEmpty ? "" : proto.name
        for attribute in proto.attribute {
            attributes[attribute.name] = try importAttribute(attribute, opset: opset, directory: directory)
        }
        return Node(name: name, opType: proto.opType, domain: proto.domain, inputs: proto.input,
                    outputs: proto.output, attributes: attributes)
    }

    static func importAttribute(_ proto: Onnx_AttributeProto, opset: Int, directory: URL?) throws -> Attribute {
        switch proto.type {
        case .graph: return .graph(try importGraph(proto.g, opset: opset, directory: directory, isSubgraph: true))
        case .int: return .int(Int(proto.i))
        case .float: return .float(proto.f)
        case .string: return .string(String(decoding: proto.s, as: UTF8.self))
        case .ints: return .ints(proto.ints.map { Int($0) })
        case .floats: return .floats(proto.floats)
        case .strings: return .strings(proto.strings.map { String(decoding: $0, as: UTF8.self) })
        case .tensor: return .tensor(try ONNXTensor.decode(proto.t, directory: directory))
        case .undefined:
            // Very old exporters leave the type unset; infer it from the filled field.
            if proto.hasT { return .tensor(try ONNXTensor.decode(proto.t, directory: directory)) }
            if !proto.ints.isEmpty { return .ints(proto.ints.map { Int($0) }) }
            if !proto.floats.isEmpty { return .floats(proto.floats) }
            if proto.hasS { return .string(String(decoding: proto.s, as: UTF8.self)) }
            if proto.hasF { return .float(proto.f) }
            return .int(Int(proto.i))
        default: return .unsupported("\(proto.type)")
        }
    }

    /// Kahn's algorithm, stable with respect to the file's order.
    static func topologicallySorted(_ nodes: [Node], available: Set<String>) throws -> [Node] {
        var producer = [String: Int]()
        for (index, node) in nodes.enumerated() {
            for output in node.outputs where !output.isEmpty { producer[output] = index }
        }
        var pending = [Int](repeating: 0, count: nodes.count)
        var consumers = [[Int]](repeating: [], count: nodes.count)
        for (index, node) in nodes.enumerated() {
            for input in Set(node.inputs) where !input.isEmpty && !available.contains(input) {
                guard let source = producer[input] else {
                    throw CNNVizError(.invalidModel,
                                      "input '\(input)' is neither a graph input, an initializer, nor produced by any node",
                                      location: node.location)
                }
                guard source != index else {
                    throw CNNVizError(.invalidModel, "the graph has a cycle: node '\(node.name)' reads its own output '\(input)'",
                                      location: node.location)
                }
                pending[index] += 1
                consumers[source].append(index)
            }
        }
        var ready = (0..<nodes.count).filter { pending[$0] == 0 }.reversed().map { $0 }
        var order = [Int]()
        order.reserveCapacity(nodes.count)
        while let next = ready.popLast() {
            order.append(next)
            var released = [Int]()
            for consumer in consumers[next] {
                pending[consumer] -= 1
                if pending[consumer] == 0 { released.append(consumer) }
            }
            ready.append(contentsOf: released.sorted(by: >))
            ready.sort(by: >)
        }
        guard order.count == nodes.count else {
            // The nodes left are the cycles and what they feed; prune from the leaves until
            // only nodes that feed another remaining node (the cycles) stay.
            var remaining = Set((0..<nodes.count).filter { pending[$0] > 0 })
            while let leaf = remaining.first(where: { !consumers[$0].contains(where: remaining.contains) }) { remaining.remove(leaf) }
            let stuck = remaining.sorted().map { nodes[$0].location }
            throw CNNVizError(.invalidModel, "the graph has a cycle through \(stuck.prefix(6).joined(separator: ", "))"
                              + (stuck.count > 6 ? " and \(stuck.count - 6) more nodes" : ""), location: stuck.first)
        }
        return order.map { nodes[$0] }
    }
}
