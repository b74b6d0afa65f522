/// Where the reverse pass starts: a cotangent ∂L/∂y on one named tensor y.
///
/// `classes` puts a 1 at class cₙ along axis 1 of batch item n (at every trailing position,
/// so for [N,C,H,W] outputs L = Σₙ Σ_hw y[n,cₙ,h,w]); one class applies to every item.
/// `sum` seeds every element with 1 (L = Σ y); `cotangent` gives ∂L/∂y outright; `loss`
/// computes it from y once the forward pass has produced y (a training loss's gradient).
public struct GradientSeed {
    public enum Kind {
        case classes([Int])
        case sum
        case cotangent(Tensor)
        case loss((Tensor) throws -> Tensor)
    }

    /// A tensor or node name.
    public var output: String
    public var kind: Kind

    public init(output: String, kind: Kind) {
        self.output = output
        self.kind = kind
    }

    /// L = Σₙ y[n, classes[n]] (one class for all items, or one per item).
    public static func logit(_ output: String, classes: [Int]) -> GradientSeed {
        GradientSeed(output: output, kind: .classes(classes))
    }

    /// The cotangent for the output tensor `y`, checked against its shape.
    func cotangent(for y: Tensor, name: String) throws -> Tensor {
        switch kind {
        case .sum:
            return Tensor(shape: y.shape, floats: [Float](repeating: 1, count: y.count), elementType: y.elementType)
        case .loss(let gradient):
            return try GradientSeed(output: output, kind: .cotangent(try gradient(y))).cotangent(for: y, name: name)
        case .cotangent(let tensor):
            guard tensor.shape == y.shape else {
                throw CNNVizError(.shapeMismatch, "the seed cotangent has shape \(tensor.shape) but '\(name)' has shape \(y.shape)")
                    .with(tensor: name, expectedShape: y.shape, foundShape: tensor.shape)
            }
            return tensor
        case .classes(let classes):
            let batch = y.rank >= 2 ? y.shape[0] : 1
            let classCount = y.rank >= 2 ? y.shape[1] : y.shape.first ?? 1
            guard classes.count == 1 || classes.count == batch else {
                throw CNNVizError(.invalidArgument,
                                  "\(classes.count) target classes for output '\(name)' with a batch of \(batch); give one class, or one per item")
            }
            for c in classes where c < 0 || c >= classCount {
                throw CNNVizError(.invalidArgument,
                                  "class index \(c) is out of range for output '\(name)' of shape \(y.shape): expected 0..<\(classCount)")
            }
            let trailing = y.rank >= 2 ? y.shape[2...].reduce(1, *) : 1
            var values = [Float](repeating: 0, count: y.count)
            for n in 0..<batch {
                let c = classes.count == 1 ? classes[0] : classes[n]
                let start = (n * classCount + c) * trailing
                for i in start..<(start + trailing) { values[i] = 1 }
            }
            return Tensor(shape: y.shape, floats: values, elementType: y.elementType)
        }
    }
}
