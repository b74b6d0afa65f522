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

    @OptionGroup var threadOptions: ThreadOptions

    init() {}

    init(model: String?) { self.model = model }

    /// The files these options read (for `InputProtection.checkOutputs`).
    var inputFiles: [URL] { model.map { [URL(fileURLWithPath: $0)] } ?? [] }

    /// The model as its file declares it (for `run`, `summary` and tensor-level diffs).
    func loadSession() throws -> Session {
        guard let model else { return try ModelOptions.embeddedSession() }
        return try Session(contentsOf: URL(fileURLWithPath: model))
    }

    /// The model for images: an NHWC input (tf2onnx, Keras) takes [N, C, H, W] through a
    /// Transpose in front, so that images, maps and input gradients share one layout.
    /// `forGradients`: a QDQ model's quantize-dequantize pairs pass gradients straight through
    /// (`Session.QuantizedExecution.fakeQuantized`); otherwise they run as onnxruntime's integer ops.
    func loadImageSession(forGradients: Bool = false) throws -> Session {
        guard let model else { return try ModelOptions.embeddedSession() }
        return try Session(model: try ONNXImporter.load(contentsOf: URL(fileURLWithPath: model)).withChannelsFirstInput(),
                           quantization: forGradients ? .fakeQuantized : .integer)
    }

    /// The embedded shapes model, said on stderr: a forgotten --model otherwise answers
    /// "4 cross" for a photo of a cat without a word.
    static func embeddedSession() throws -> Session {
        FileHandle.standardError.write(Data("note: using the embedded shapes model (no --model given)\n".utf8))
        return try Session(model: EmbeddedShapesModel.model())
    }
}

/// The class names from a `--labels` file, else those the model declares in its metadata, else nil.
func classNames(file: String?, session: Session) throws -> [String]? {
    try ClassLabels.resolve(file: file.map { URL(fileURLWithPath: $0) }, model: session.model)
}

/// The one JSON encoding of every command: pretty, key-sorted, snake_case keys
/// (`lowFrequencyShare` → `low_frequency_share`).
func jsonEncoder(pretty: Bool = true) -> JSONEncoder {
    let encoder = JSONEncoder()
    encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
    encoder.keyEncodingStrategy = .convertToSnakeCase
    return encoder
}

/// `value` as JSON (`jsonEncoder()`; on one line unless `pretty`), with NaN and ±Inf written
/// as null (JSON has no such numbers) and a warning on stderr naming the fields that held them.
func jsonData<T: Encodable>(_ value: T, pretty: Bool = true) throws -> Data {
    let encoder = jsonEncoder(pretty: pretty)
    let marker = "__cnnviz_non_finite__"
    encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: marker, negativeInfinity: marker, nan: marker)
    var text = String(decoding: try encoder.encode(value), as: UTF8.self)
    guard text.contains(marker) else { return Data(text.utf8) }
    let keyed = try NSRegularExpression(pattern: "\"([^\"]+)\" ?: ?\"\(marker)\"")
    let keys = Set(keyed.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap { Range($0.range(at: 1), in: text).map { String(text[$0]) } })
    let count = text.components(separatedBy: "\"\(marker)\"").count - 1
    text = text.replacingOccurrences(of: "\"\(marker)\"", with: "null")
    let fields = keys.isEmpty ? "inside arrays" : "in " + keys.sorted().joined(separator: ", ")
    FileHandle.standardError.write(Data("warning: \(count) NaN or infinite value(s) written as null in the JSON (\(fields))\n".utf8))
    return Data(text.utf8)
}

/// Writes `value` as JSON (`jsonData`) on standard output.
func printJSON<T: Encodable>(_ value: T) throws {
    FileHandle.standardOutput.write(try jsonData(value) + Data("\n".utf8))
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
