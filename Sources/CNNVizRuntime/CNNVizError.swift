/// The one error type that cnn-viz throws for bad input: models, tensors, files and arguments.
///
/// Every error carries a machine-readable `code`, a `message` worded for a person that
/// says what was expected and what was found, the `location` it happened at (a file, a
/// node, a layer), and the underlying `cause` where there is one.
/// Broken invariants inside cnn-viz are `precondition` failures, never this type.
public struct CNNVizError: Error, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable {
        case fileNotReadable = "file-not-readable"
        case corruptFile = "corrupt-file"
        case invalidModel = "invalid-model"
        case unsupportedOperator = "unsupported-operator"
        case unsupportedDataType = "unsupported-data-type"
        case shapeMismatch = "shape-mismatch"
        case invalidAttribute = "invalid-attribute"
        case invalidArgument = "invalid-argument"
        case unknownTensor = "unknown-tensor"
        case writeFailed = "write-failed"
        /// The input is well-formed but larger than a documented limit (e.g. an image's pixel count).
        case limitExceeded = "limit-exceeded"
    }

    public var code: Code
    public var message: String
    public var location: String?
    public var cause: String?

    public init(_ code: Code, _ message: String, location: String? = nil, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.location = location
        self.cause = cause.map { String(describing: $0) }
    }

    public var description: String {
        var text = location.map { "\($0): \(message)" } ?? message
        if let cause { text += " (cause: \(cause))" }
        return text
    }

    /// The same error, placed at `outer` (e.g. a node inside a model file).
    public func located(at outer: String) -> CNNVizError {
        var copy = self
        copy.location = location.map { "\(outer): \($0)" } ?? outer
        return copy
    }
}
