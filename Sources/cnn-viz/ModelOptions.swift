import ArgumentParser
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
    if let file { return try ClassLabels.load(contentsOf: URL(fileURLWithPath: file)) }
    return ModelMetadata.labels(of: session.model)
}

/// Writes `value` as pretty, key-sorted JSON on standard output.
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    let data = try encoder.encode(value)
    FileHandle.standardOutput.write(data + Data("\n".utf8))
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
