/// What the ONNX specification says each op of the default domain takes, by version: input
/// and output counts and attributes with their types (the table is generated from the onnx
/// package by scripts/generate-op-schemas.py). The loader checks every node against the
/// version of its op that the model's opset selects, as onnx.checker and onnxruntime do.
enum OperatorSchemas {
    struct Version {
        let since: Int, minInputs: Int, maxInputs: Int, minOutputs: Int, maxOutputs: Int
        /// name → (type code, required).
        let attributes: [String: (type: String, required: Bool)]

        init(_ since: Int, _ minInputs: Int, _ maxInputs: Int, _ minOutputs: Int, _ maxOutputs: Int, _ attributes: String) {
            self.since = since
            self.minInputs = minInputs
            self.maxInputs = maxInputs
            self.minOutputs = minOutputs
            self.maxOutputs = maxOutputs
            var parsed = [String: (String, Bool)]()
            for entry in attributes.split(separator: ",") {
                let parts = entry.split(separator: ":")
                let type = String(parts[1])
                parsed[String(parts[0])] = (type.hasSuffix("!") ? String(type.dropLast()) : type, type.hasSuffix("!"))
            }
            self.attributes = parsed
        }
    }

    /// The version of `op` that opset `opset` selects: the newest with since ≤ opset.
    static func schema(_ op: String, opset: Int) -> Version? {
        table[op]?.last { $0.since <= opset }
    }

    /// The words for an attribute type code.
    static func typeName(_ code: String) -> String {
        ["i": "an int", "f": "a float", "s": "a string", "t": "a tensor", "g": "a graph", "I": "a list of ints", "F": "a list of floats",
         "S": "a list of strings", "T": "a list of tensors", "G": "a list of graphs"][code] ?? code
    }
}
