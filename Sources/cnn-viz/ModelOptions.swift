import ArgumentParser
import CNNVizAttribution
import CNNVizImaging
import CNNVizRuntime
import CNNVizShapes
import Foundation

/// Options shared by every command that loads a model.
struct ModelOptions: ParsableArguments {
    @Option(name: .long, help: "The ONNX model to load. Default: the embedded shapes model (samples/models/shapes.onnx).")
    var model: String?

    init() {}

    init(model: String?) { self.model = model }

    /// The model as its file declares it (for `run`, `summary` and tensor-level diffs).
    func loadSession() throws -> Session {
        guard let model else { return try Session(model: EmbeddedShapesModel.model()) }
        return try Session(contentsOf: URL(fileURLWithPath: model))
    }

    /// The model for images: an NHWC input (tf2onnx, Keras) takes [N, C, H, W] through a
    /// Transpose in front, so that images, maps and input gradients share one layout.
    func loadImageSession() throws -> Session {
        guard let model else { return try Session(model: EmbeddedShapesModel.model()) }
        return try Session(model: try ONNXImporter.load(contentsOf: URL(fileURLWithPath: model)).withChannelsFirstInput())
    }
}

/// The class names from a `--labels` file, else those the model declares in its metadata, else nil.
func classNames(file: String?, session: Session) throws -> [String]? {
    try ClassLabels.resolve(file: file.map { URL(fileURLWithPath: $0) }, model: session.model)
}

/// The one JSON encoding of every command: pretty, key-sorted, snake_case keys
/// (`lowFrequencyShare` → `low_frequency_share`).
func jsonEncoder() -> JSONEncoder {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    encoder.keyEncodingStrategy = .convertToSnakeCase
    return encoder
}

/// Writes `value` as JSON (`jsonEncoder()`) on standard output.
func printJSON<T: Encodable>(_ value: T) throws {
    FileHandle.standardOutput.write(try jsonEncoder().encode(value) + Data("\n".utf8))
}

/// A file-system-safe file stem for a tensor name (`fire9/concat_1` → `fire9_concat_1`).
func fileStem(for tensorName: String) -> String {
    String(tensorName.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." ? $0 : "_" })
}

/// Creates `url` and its parents, or fails naming it.
func createOutputDirectory(_ url: URL) throws {
    do { try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) } catch {
        throw CNNVizError(.writeFailed, "cannot create the output directory", location: url.path, cause: error)
    }
}

/// The model's outputs with their declared shapes, and the logits that targets read by
/// default: "box [1,4], landmarks [1,10], prob [1,2] (targets read 'logits' before its Softmax)".
func modelOutputs(_ session: Session) -> String {
    let list = session.graph.outputs.map { "\($0.name) \($0.shapeDescription)" }.joined(separator: ", ")
    guard let (output, logits) = try? TargetSet.defaultOutput(session) else { return list }
    return list + (output == logits ? "; targets read '\(output)' by default" : "; targets read '\(logits)', before the Softmax of '\(output)', by default")
}
