/// One optimisation step on a session's parameters, and the trained model for export.
extension Session {
    /// The current values of the named initializers (the trainable parameters).
    public func parameters(_ names: [String]) throws -> [String: Tensor] {
        var result = [String: Tensor]()
        for name in names {
            guard let value = graph.initializers[name] else {
                throw CNNVizError(.unknownTensor, "no parameter (initializer) named '\(name)'", location: model.source)
            }
            result[name] = value
        }
        return result
    }

    /// Replaces initializers in place, keeping each one's shape.
    ///
    /// Pitfall: constants folded at load time (say a Reshape of a weight) are not refolded, so
    /// only parameters that nodes read directly may be trained; others are refused.
    public func updateParameters(_ values: [String: Tensor]) throws {
        let read = Set(graph.nodes.flatMap(\.inputs))
        for (name, value) in values {
            guard let current = graph.initializers[name] else {
                throw CNNVizError(.unknownTensor, "no parameter (initializer) named '\(name)'", location: model.source)
            }
            guard value.shape == current.shape else {
                throw CNNVizError(.shapeMismatch, "parameter '\(name)' has shape \(current.shape); the update has \(value.shape)",
                                  location: model.source)
            }
            guard read.contains(name) else {
                throw CNNVizError(.invalidArgument, "parameter '\(name)' was folded into constants at load time and cannot be trained",
                                  location: model.source)
            }
        }
        for (name, value) in values { graph.initializers[name] = value.relabelled(as: graph.initializers[name]!.elementType) }
    }

    /// Forward, loss, backward to `parameters`, and one optimizer update; returns the loss.
    ///
    /// `loss` maps the output tensor to (loss, ∂loss/∂output), e.g. `Loss.softmaxCrossEntropy`.
    @discardableResult
    public func trainingStep<O: Optimizer>(_ feeds: [String: Tensor], output: String, parameters names: [String],
                                           optimizer: inout O,
                                           loss: @escaping (Tensor) throws -> (loss: Float, gradient: Tensor)) throws -> Float {
        var value: Float = 0
        let seed = GradientSeed(output: output, kind: .loss { y in
            let (l, gradient) = try loss(y)
            value = l
            return gradient
        })
        let result = try gradients(feeds, seed: seed, wrt: names)
        var parameters = try self.parameters(names)
        try optimizer.step(&parameters, gradients: result.gradients)
        try updateParameters(parameters)
        return value
    }

    /// The model as loaded, with the current parameter values: for `ONNXExporter`.
    public var trainedModel: Model {
        var trained = model
        for name in trained.graph.initializers.keys {
            if let value = graph.initializers[name] { trained.graph.initializers[name] = value }
        }
        return trained
    }
}
