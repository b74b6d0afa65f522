/// The loader's checks, run before anything executes, as onnx.checker and onnxruntime make
/// them: the IR and opset ranges, tensor names defined once, and every node of the default
/// domain against its op's schema for the model's opset (input and output counts, required
/// attributes, attribute types, unknown attributes, integer index and shape inputs, constant
/// Slice axes named once, a kernel_shape that agrees with the weight). Each refusal names the node and says what was
/// expected and what was found; the importer adds the file.
///
/// Pitfall: element types are checked only where they are known without running the graph
/// (initializers and declared graph inputs); an intermediate float tensor used as indices is
/// refused by the op when it runs.
enum ModelValidation {
    static let supportedIRVersions = 3...OperatorSchemas.newestIRVersion
    static let supportedOpsets = 1...OperatorSchemas.newestOpset

    static func checkVersions(irVersion: Int, opset: Int?) throws {
        guard supportedIRVersions.contains(irVersion) else {
            throw CNNVizError(.invalidModel, "IR version \(irVersion) is not supported: expected \(supportedIRVersions.lowerBound) to \(supportedIRVersions.upperBound)")
        }
        guard let opset else {
            throw CNNVizError(.invalidModel, "the model imports no opset of the default ONNX domain; expected an opset_import with domain \"\" (or \"ai.onnx\") and a version from \(supportedOpsets.lowerBound) to \(supportedOpsets.upperBound)")
        }
        guard supportedOpsets.contains(opset) else {
            throw CNNVizError(.invalidModel, "opset \(opset) of the default domain is not supported: expected \(supportedOpsets.lowerBound) to \(supportedOpsets.upperBound)")
        }
    }

    /// Each tensor name is defined once: by a graph input, an initializer or one node output.
    static func checkSingleDefinitions(_ nodes: [Node], inputs: [String], initializers: Set<String>) throws {
        var definedBy = [String: String]()
        for name in inputs { definedBy[name] = "a graph input" }
        for name in initializers { definedBy[name] = "an initializer" }
        for node in nodes {
            for output in node.outputs where !output.isEmpty {
                if let other = definedBy[output] {
                    throw CNNVizError(.invalidModel, "output '\(output)' is already defined by \(other); each tensor name must be defined once",
                                      location: node.location).with(tensor: output)
                }
                definedBy[output] = node.location
            }
        }
    }

    /// The node against its op's schema for `opset`. Other domains are left to the registry.
    static func check(_ node: Node, opset: Int, constants: [String: Tensor], declared: [String: ValueInfo]) throws {
        guard node.domain.isEmpty || node.domain == "ai.onnx", let versions = OperatorSchemas.table[node.opType] else { return }
        guard let schema = OperatorSchemas.schema(node.opType, opset: opset) else {
            throw CNNVizError(.invalidModel, "\(node.opType) does not exist in opset \(opset); it first appears in opset \(versions[0].since)",
                              location: node.location)
        }
        let label = "\(node.opType) (opset \(opset), version \(schema.since))"
        guard (schema.minInputs...schema.maxInputs).contains(node.inputs.count) else {
            throw CNNVizError(.invalidModel, "\(label) takes \(range(schema.minInputs, schema.maxInputs)) inputs, found \(node.inputs.count)",
                              location: node.location)
        }
        guard (schema.minOutputs...schema.maxOutputs).contains(node.outputs.count) else {
            throw CNNVizError(.invalidModel, "\(label) gives \(range(schema.minOutputs, schema.maxOutputs)) outputs, found \(node.outputs.count)",
                              location: node.location)
        }
        for (name, attribute) in schema.attributes where attribute.required && node.attributes[name] == nil {
            throw CNNVizError(.invalidAttribute, "\(label) requires the attribute '\(name)' (\(OperatorSchemas.typeName(attribute.type))), which is missing",
                              location: node.location)
        }
        for (name, value) in node.attributes {
            guard let expected = schema.attributes[name] else {
                throw CNNVizError(.invalidAttribute, "\(label) has no attribute '\(name)'; its attributes are "
                                  + (schema.attributes.keys.sorted().joined(separator: ", ").nonEmpty ?? "none"), location: node.location)
            }
            if let found = typeCode(value), found != expected.type {
                throw CNNVizError(.invalidAttribute, "\(label)'s attribute '\(name)' must be \(OperatorSchemas.typeName(expected.type)), found \(OperatorSchemas.typeName(found))",
                                  location: node.location)
            }
        }
        for slot in integerInputs(node.opType, opset: opset) where slot < node.inputs.count && !node.inputs[slot].isEmpty {
            let name = node.inputs[slot]
            let type = constants[name]?.elementType ?? declared[name]?.elementType
            if let type, type.isFloatingPoint {
                throw CNNVizError(.invalidModel, "\(label)'s input \(slot) '\(name)' holds indices or a shape and must be an integer tensor, found \(type)",
                                  location: node.location).with(tensor: name)
            }
        }
        if node.opType == "Slice" {
            let axes: [Int]? = opset >= 10
                ? (node.inputs.count > 3 ? constants[node.inputs[3]]?.integers.map { Int($0) } : nil)
                : { if case .ints(let a)? = node.attributes["axes"] { return a } else { return nil } }()
            if let axes, Set(axes).count != axes.count {
                throw CNNVizError(.invalidModel, "Slice axes \(axes) name an axis twice; each axis may appear once", location: node.location)
            }
        }
        if ["Conv", "ConvTranspose"].contains(node.opType), case .ints(let kernel)? = node.attributes["kernel_shape"],
           node.inputs.count > 1, let weight = constants[node.inputs[1]], weight.rank >= 3, Array(weight.shape[2...]) != kernel {
            throw CNNVizError(.invalidAttribute, "kernel_shape \(kernel) contradicts the weight '\(node.inputs[1])' of shape \(weight.shape), whose kernel is \(Array(weight.shape[2...]))",
                              location: node.location).with(tensor: node.inputs[1], expectedShape: kernel, foundShape: weight.shape)
        }
    }

    /// Input slots that the op reads as indices, axes or a shape (type constraint tensor(int32/int64)).
    static func integerInputs(_ op: String, opset: Int) -> [Int] {
        switch op {
        case "Gather", "GatherElements", "GatherND", "Reshape", "Expand", "Tile", "ScatterND", "ScatterElements", "CumSum": return [1]
        case "ConstantOfShape": return [0]
        case "Slice": return opset >= 10 ? [1, 2, 3, 4] : []
        case "Unsqueeze", "Squeeze", "ReduceSum": return opset >= 13 ? [1] : []
        case "TopK": return opset >= 10 ? [1] : []
        case "Pad": return opset >= 11 ? [1] : []
        case "Resize": return opset >= 11 ? [3] : []
        case "NonMaxSuppression": return [2]
        default: return []
        }
    }

    static func typeCode(_ attribute: Attribute) -> String? {
        switch attribute {
        case .int: return "i"
        case .float: return "f"
        case .string: return "s"
        case .ints: return "I"
        case .floats: return "F"
        case .strings: return "S"
        case .tensor: return "t"
        case .graph: return "g"
        case .unsupported: return nil
        }
    }

    static func range(_ low: Int, _ high: Int) -> String {
        high == Int.max ? "at least \(low)" : low == high ? "exactly \(low)" : "\(low) to \(high)"
    }
}

extension String {
    /// nil for the empty string.
    var nonEmpty: String? { isEmpty ? nil : self }
}
