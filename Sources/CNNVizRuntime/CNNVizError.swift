/// The one error type that cnn-viz throws for bad input: models, tensors, files and arguments.
///
/// Every error carries a machine-readable `code`, a `message` worded for a person that
/// says what was expected and what was found, the `location` it happened at (a file, a
/// node, a layer), and the underlying `cause` where there is one. Where they are known, the
/// same facts are structured fields too: the `file`, `node` and `tensor`, the `expectedShape`
/// and `foundShape`, and the `underlying` error itself, so that a program can act on them
/// without parsing the message.
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
        /// The compute library (oneDNN) refused or failed a problem that cnn-viz accepted.
        case engineFailure = "engine-failure"
    }

    public var code: Code
    public var message: String
    public var location: String?
    public var cause: String?
    /// The file the error is in (a model, an image, a tensor), once known.
    public var file: String?
    /// The node, as `Node.location` names it.
    public var node: String?
    /// The tensor (or layer) concerned.
    public var tensor: String?
    /// The shape that was expected (nil entries: any size), and the shape found.
    public var expectedShape: [Int?]?
    public var foundShape: [Int]?
    /// The error that caused this one, typed.
    public var underlying: (any Error & Sendable)?

    public init(_ code: Code, _ message: String, location: String? = nil, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.location = location
        self.cause = cause.map { String(describing: $0) }
        self.underlying = cause
        // A location that is a node's (`Node.location`: "node 'conv1' (Conv)") names the node.
        if let location, location.hasPrefix("node '") { node = location }
    }

    /// The same error with its structured fields set (nil arguments keep what is there).
    public func with(file: String? = nil, node: String? = nil, tensor: String? = nil, expectedShape: [Int?]? = nil,
                     foundShape: [Int]? = nil) -> CNNVizError {
        var copy = self
        copy.file = file ?? self.file
        copy.node = node ?? self.node
        copy.tensor = tensor ?? self.tensor
        copy.expectedShape = expectedShape ?? self.expectedShape
        copy.foundShape = foundShape ?? self.foundShape
        return copy
    }

    public var description: String {
        var text = location.map { "\($0): \(message)" } ?? message
        if let cause { text += " (cause: \(cause))" }
        return text
    }

    /// The same error, placed at `outer` (e.g. a node inside a model file), which becomes its
    /// `file` when it has none.
    public func located(at outer: String) -> CNNVizError {
        var copy = self
        copy.location = location.map { "\(outer): \($0)" } ?? outer
        copy.file = file ?? outer
        return copy
    }
}
