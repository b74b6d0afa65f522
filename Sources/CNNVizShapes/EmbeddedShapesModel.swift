import CNNVizRuntime
import Foundation

/// The default model, compiled into the binary: the bytes of `samples/models/shapes.onnx`,
/// so that every command works from any directory with nothing downloaded or installed beside it.
///
/// The bytes live base64-encoded in `EmbeddedShapesModel+Bytes.swift`, which
/// `scripts/embed-model.py` regenerates from the ONNX file (`make embed-model`); a test checks
/// that the two are the same. Pitfall: retraining the model without re-embedding it leaves the
/// binary on the old one; that test is what catches it.
public enum EmbeddedShapesModel {
    /// The name errors and reports use for it.
    public static let source = "<embedded shapes model>"

    /// The ONNX bytes.
    public static var data: Data {
        guard let data = Data(base64Encoded: base64, options: .ignoreUnknownCharacters) else {
            preconditionFailure("the embedded model's base64 text is corrupt; run make embed-model")
        }
        return data
    }

    public static func model() throws -> Model {
        try ONNXImporter.load(data: data, source: source)
    }
}
