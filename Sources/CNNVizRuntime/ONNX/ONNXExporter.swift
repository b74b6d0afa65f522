import Foundation
import ONNXProto
import SwiftProtobuf
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Writes `Model`s as ONNX files: the reverse of `ONNXImporter`.
///
/// What goes into the `ModelProto`:
/// - `ir_version` from the model, one opset import for the default domain at
///   `model.opsetVersion` (plus version 1 for any other domain a node uses), producer "cnn-viz";
/// - the nodes in their (topological) order, with every `Attribute` kind;
/// - the initializers as raw little-endian data: floating-point tensors as FLOAT (cnn-viz holds
///   them as Float32), integer and BOOL tensors in their own element type;
/// - the graph inputs and outputs, a symbolic dimension written as `dim_param` ("N" for the
///   batch axis, "<value>_dim<i>" elsewhere, so that two unrelated unknowns are not declared equal);
/// - `metadata_props`, sorted by key so that the same model always gives the same bytes.
///
/// Pitfalls:
/// - IR versions below 4 require every initializer to be listed among the graph inputs too;
///   the exporter does that for such models, as the original file had to.
/// - A model loaded from FLOAT16 or DOUBLE weights is written as FLOAT throughout (initializers,
///   tensor attributes, declared inputs and outputs). A `Cast` inside the graph is written as it
///   was, so a graph that casts to another float type internally may no longer type-check.
/// - Attributes that the importer did not keep (graphs, sparse tensors: `Attribute.unsupported`)
///   cannot be written back; they throw `.invalidAttribute` rather than silently vanish.
public enum ONNXExporter {
    /// The model serialised as ONNX protobuf bytes.
    public static func data(of model: Model) throws -> Data {
        let proto = try modelProto(model)
        do {
            return try proto.serializedBytes()
        } catch {
            throw CNNVizError(.invalidModel,
                              "cannot serialise the model as ONNX protobuf (a protobuf message is limited to 2 GiB; this graph has \(model.graph.initializers.count) initializers)",
                              location: model.source, cause: error)
        }
    }

    /// Writes the model to `url` atomically: the bytes go to a temporary file in the same
    /// directory, which is then renamed over `url`. On any failure the temporary file is
    /// removed and `url` is left as it was; the error is `.writeFailed` naming the path.
    public static func write(_ model: Model, to url: URL) throws {
        let bytes = try data(of: model)
        try AtomicFile.write(bytes, to: url)
    }

    // MARK: - Building the protobuf

    static func modelProto(_ model: Model) throws -> Onnx_ModelProto {
        var proto = Onnx_ModelProto()
        proto.irVersion = Int64(model.irVersion)
        proto.producerName = "cnn-viz"
        var opsets = [Onnx_OperatorSetIdProto]()
        var defaultOpset = Onnx_OperatorSetIdProto()
        defaultOpset.domain = ""
        defaultOpset.version = Int64(model.opsetVersion)
        opsets.append(defaultOpset)
        let otherDomains = Set(model.graph.nodes.map(\.domain)).subtracting(["", "ai.onnx"])
        for domain in otherDomains.sorted() {
            var opset = Onnx_OperatorSetIdProto()
            opset.domain = domain
            opset.version = 1
            opsets.append(opset)
        }
        proto.opsetImport = opsets
        proto.graph = try graphProto(model.graph, listInitializersAsInputs: model.irVersion < 4)
        proto.metadataProps = model.metadata.keys.sorted().map { key in
            var entry = Onnx_StringStringEntryProto()
            entry.key = key
            entry.value = model.metadata[key] ?? ""
            return entry
        }
        return proto
    }

    static func graphProto(_ graph: Graph, listInitializersAsInputs: Bool) throws -> Onnx_GraphProto {
        var proto = Onnx_GraphProto()
        proto.name = graph.name
        proto.node = try graph.nodes.map(nodeProto)
        let names = graph.initializers.keys.sorted()
        proto.initializer = names.compactMap { name in graph.initializers[name].map { tensorProto($0, name: name) } }
        var inputs = try graph.inputs.map(valueInfoProto)
        if listInitializersAsInputs {
            let declared = Set(graph.inputs.map(\.name))
            for name in names where !declared.contains(name) {
                guard let tensor = graph.initializers[name] else { continue }
                let type = tensor.isFloatingPoint ? ElementType.float32 : tensor.elementType
                inputs.append(try valueInfoProto(ValueInfo(name: name, elementType: type, shape: tensor.shape.map { $0 })))
            }
        }
        proto.input = inputs
        proto.output = try graph.outputs.map(valueInfoProto)
        return proto
    }

    static func nodeProto(_ node: Node) throws -> Onnx_NodeProto {
        var proto = Onnx_NodeProto()
        proto.name = node.name
        proto.opType = node.opType
        if !node.domain.isEmpty { proto.domain = node.domain }
        proto.input = node.inputs
        proto.output = node.outputs
        proto.attribute = try node.attributes.sorted { $0.key < $1.key }.map { name, value in
            try attributeProto(name: name, value: value, node: node)
        }
        return proto
    }

    static func attributeProto(name: String, value: Attribute, node: Node) throws -> Onnx_AttributeProto {
        var proto = Onnx_AttributeProto()
        proto.name = name
        switch value {
        case .int(let v):
            proto.type = .int
            proto.i = Int64(v)
        case .float(let v):
            proto.type = .float
            proto.f = v
        case .string(let v):
            proto.type = .string
            proto.s = Data(v.utf8)
        case .ints(let v):
            proto.type = .ints
            proto.ints = v.map { Int64($0) }
        case .floats(let v):
            proto.type = .floats
            proto.floats = v
        case .strings(let v):
            proto.type = .strings
            proto.strings = v.map { Data($0.utf8) }
        case .tensor(let v):
            proto.type = .tensor
            proto.t = tensorProto(v, name: "")
        case .graph:
            throw CNNVizError(.invalidAttribute, "attribute '\(name)' is a subgraph, which the exporter does not write",
                              location: node.location)
        case .unsupported(let kind):
            throw CNNVizError(.invalidAttribute,
                              "attribute '\(name)' is of kind \(kind), which cnn-viz does not keep on import (graphs, sparse tensors); the model cannot be exported without it",
                              location: node.location)
        }
        return proto
    }

    /// Floating-point tensors as FLOAT raw data, integer and BOOL tensors in their own type.
    static func tensorProto(_ tensor: Tensor, name: String) -> Onnx_TensorProto {
        ONNXTensor.encode(tensor.isFloatingPoint ? tensor.relabelled(as: .float32) : tensor, name: name)
    }

    static func valueInfoProto(_ info: ValueInfo) throws -> Onnx_ValueInfoProto {
        var tensorType = Onnx_TypeProto.Tensor()
        tensorType.elemType = Int32(info.elementType.isFloatingPoint ? ElementType.float32.rawValue : info.elementType.rawValue)
        if let shape = info.shape {
            var shapeProto = Onnx_TensorShapeProto()
            shapeProto.dim = try shape.enumerated().map { axis, size in
                var dim = Onnx_TensorShapeProto.Dimension()
                switch size {
                case .some(let value) where value >= 0:
                    dim.dimValue = Int64(value)
                case .some(let value):
                    throw CNNVizError(.invalidModel,
                                      "graph value '\(info.name)' declares dimension \(axis) as \(value); a dimension is a size ≥ 0 or symbolic (nil)",
                                      location: "shape \(info.shapeDescription)")
                case .none:
                    dim.dimParam = axis == 0 ? "N" : "\(info.name)_dim\(axis)"
                }
                return dim
            }
            tensorType.shape = shapeProto
        }
        var type = Onnx_TypeProto()
        type.tensorType = tensorType
        var proto = Onnx_ValueInfoProto()
        proto.name = info.name
        proto.type = type
        return proto
    }
}
