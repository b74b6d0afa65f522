/// A model's BatchNormalization nodes switched to training mode, for training it, and the
/// way back to the inference model.
///
/// In training mode (ONNX opset 14+, `training_mode = 1`) each node normalises with the batch
/// statistics and returns the updated running statistics as outputs 1 and 2:
/// running ← momentum·running + (1 − momentum)·batch (the population variance of the batch).
/// After each step `step(session:result:)` writes them back into the session's
/// `running_mean`/`running_var` initializers, and `inferenceModel(from:)` puts every trained
/// value into the original, inference-form graph.
///
/// Pitfalls:
/// - PyTorch updates the running variance with the *unbiased* batch variance (÷(n−1)); ONNX
///   and this trainer use the population variance (÷n). With n = batch·H·W in the hundreds
///   the two differ by well under 1%.
/// - A model evaluated with the batch statistics of a single image gives different logits from
///   the inference model; evaluate the result of `inferenceModel(from:)`, never the training graph.
public struct BatchNormTraining: Sendable {
    /// The inference-form model this was made from.
    public let inferenceModel: Model
    /// The same graph with every BatchNormalization node in training mode.
    public let trainingModel: Model
    /// For each node: the output carrying the new running mean, and the initializer it updates;
    /// likewise for the variance.
    public let runningStatistics: [(output: String, parameter: String)]

    public init(_ model: Model) throws {
        var training = model
        var statistics = [(output: String, parameter: String)]()
        for index in training.graph.nodes.indices where training.graph.nodes[index].opType == "BatchNormalization" {
            var node = training.graph.nodes[index]
            guard node.inputs.count == 5, node.outputs.count >= 1 else {
                throw CNNVizError(.invalidModel, "BatchNormalization needs 5 inputs (X, scale, B, mean, var), found \(node.inputs.count)",
                                  location: node.location)
            }
            for (slot, parameter) in [(3, node.inputs[3]), (4, node.inputs[4])] {
                guard model.graph.initializers[parameter] != nil else {
                    throw CNNVizError(.invalidModel, "BatchNormalization input \(slot) '\(parameter)' should be an initializer to be trained",
                                      location: node.location)
                }
            }
            let mean = "\(node.name).training_running_mean", variance = "\(node.name).training_running_var"
            node.attributes["training_mode"] = .int(1)
            node.outputs = [node.outputs[0], mean, variance]
            training.graph.nodes[index] = node
            statistics += [(mean, node.inputs[3]), (variance, node.inputs[4])]
        }
        training.opsetVersion = max(training.opsetVersion, 15)
        inferenceModel = model
        trainingModel = training
        runningStatistics = statistics
    }

    /// The running-statistics outputs to ask `Session.gradients` for.
    public var outputs: [String] { runningStatistics.map(\.output) }

    /// Writes the running statistics of one training step into the session.
    public func step(session: Session, result: GradientResult) throws {
        var updates = [String: Tensor]()
        for (output, parameter) in runningStatistics {
            guard let value = result.outputs[output] else {
                throw CNNVizError(.invalidArgument, "the training step did not return '\(output)'; pass `outputs` to gradients()",
                                  location: trainingModel.source)
            }
            updates[parameter] = value
        }
        try session.updateParameters(updates)
    }

    /// The inference-form model carrying the training session's current parameters.
    public func inferenceModel(from session: Session) -> Model {
        var model = inferenceModel
        for name in model.graph.initializers.keys {
            if let value = session.graph.initializers[name] { model.graph.initializers[name] = value }
        }
        return model
    }
}
