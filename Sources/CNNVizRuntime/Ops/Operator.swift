/// One ONNX operator, built once per node with its attributes parsed.
///
/// `forward` receives the node's inputs in order, nil where an optional input is left out,
/// and returns one tensor per node output (trailing optional outputs may be omitted).
public protocol Operator {
    func forward(_ inputs: [Tensor?]) throws -> [Tensor]
}

/// Builds an operator for a node at the model's opset version.
public typealias OperatorBuilder = (_ node: Node, _ opset: Int) throws -> any Operator

extension Array where Element == Tensor? {
    /// The input at `index`, which the operator requires.
    func required(_ index: Int, _ what: String) throws -> Tensor {
        guard index < count, let tensor = self[index] else {
            throw CNNVizError(.invalidModel, "required input \(index) (\(what)) is missing")
        }
        return tensor
    }

    /// The input at `index` if given.
    func optional(_ index: Int) -> Tensor? { index < count ? self[index] : nil }

    /// A required floating-point input.
    func requiredFloat(_ index: Int, _ what: String) throws -> Tensor {
        let tensor = try required(index, what)
        guard tensor.isFloatingPoint else {
            throw CNNVizError(.unsupportedDataType, "input \(index) (\(what)) must be floating point, found \(tensor.elementType)")
        }
        return tensor
    }
}

extension Tensor {
    /// Checks the rank, naming the tensor's role in the error.
    func expectRank(_ ranks: ClosedRange<Int>, _ what: String) throws {
        guard ranks.contains(rank) else {
            let expected = ranks.lowerBound == ranks.upperBound ? "\(ranks.lowerBound)" : "\(ranks.lowerBound) to \(ranks.upperBound)"
            throw CNNVizError(.shapeMismatch, "\(what) must have rank \(expected), found shape \(shape)")
        }
    }
}
