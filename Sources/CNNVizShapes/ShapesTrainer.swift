import CNNVizRuntime
import Foundation

/// Trains `ShapesModel` on freshly generated scenes with cnn-viz's own backward pass and Adam.
///
/// Every epoch draws `scenesPerEpoch` new scenes (scene indices epoch·N ..< (epoch+1)·N of
/// the generator seeded with `seed`), so no scene is seen twice and there is nothing to
/// overfit. The weights start He-uniform from `seed` as well; the same options always give
/// the same model, bit for bit, on the same machine.
///
/// Learning rate: linear warm-up over the first 100 steps, then cosine decay to 0 at the last
/// step, ηₜ = η·½(1 + cos(π·t/T)). Pitfall: without the warm-up, Adam's first steps on a
/// freshly initialised batch-norm network overshoot and the first epoch is wasted.
public struct ShapesTrainer {
    public struct Options: Sendable {
        public var epochs = 16
        public var seed: UInt64 = 1
        public var scenesPerEpoch = 8192
        public var batchSize = 64
        public var learningRate: Float = 3e-3
        public var weightDecay: Float = 1e-4
        /// The share of two-object scenes in training.
        public var twoObjectFraction = 0.5
        /// Fresh single-object scenes scored after every epoch (from a different seed).
        public var validationScenes = 1000

        public init() {}
    }

    /// What one epoch did.
    public struct EpochReport: Codable, Sendable {
        public var epoch: Int
        /// Mean training loss; nil for epoch 0.
        public var loss: Double?
        /// Share of training scenes whose classes are exactly the positive logits; nil for epoch 0.
        public var trainingAccuracy: Double?
        /// Top-1 accuracy on fresh single-object scenes.
        public var validationAccuracy: Double
        public var seconds: Double
    }

    public var options: Options

    public init(options: Options) { self.options = options }

    /// The seed of the validation scenes, derived from the training seed so that the two never meet.
    public var validationSeed: UInt64 { options.seed ^ 0x5EED_0F_5CE9E5 }

    /// Trains and returns the inference model. `progress(step, steps, loss)` is called after
    /// every batch; `epochEnded(report, model)` after every epoch with the model so far
    /// (epoch 0 is the untrained network, reported before training starts).
    public func train(progress: (Int, Int, Float) -> Void = { _, _, _ in },
                      epochEnded: (EpochReport, Model) throws -> Void = { _, _ in }) throws -> Model {
        guard options.epochs >= 0, options.scenesPerEpoch >= options.batchSize, options.batchSize >= 2 else {
            throw CNNVizError(.invalidArgument,
                              "training needs epochs ≥ 0, batch size ≥ 2 and at least one batch per epoch; found \(options.epochs) epochs, batch \(options.batchSize), \(options.scenesPerEpoch) scenes per epoch")
        }
        let untrained = try ShapesModel.untrained(seed: options.seed)
        var model = untrained
        model.metadata["cnn-viz.training"] = description
        let training = try BatchNormTraining(model)
        let session = try Session(model: training.trainingModel)
        session.acceptsAnyBatch = true
        let parameters = model.graph.initializers.keys.filter { !$0.hasSuffix("running_mean") && !$0.hasSuffix("running_var") }.sorted()
        var optimizer = Adam(learningRate: options.learningRate, weightDecay: options.weightDecay, decoupled: true)
        let generator = SceneGenerator(seed: options.seed, twoObjectFraction: options.twoObjectFraction)
        let batches = options.scenesPerEpoch / options.batchSize
        let steps = batches * options.epochs
        let warmUp = min(100, steps)

        try epochEnded(EpochReport(epoch: 0, loss: nil, trainingAccuracy: nil,
                                   validationAccuracy: try validationAccuracy(of: model), seconds: 0), model)
        for epoch in 1...max(options.epochs, 1) where options.epochs > 0 {
            let start = DispatchTime.now().uptimeNanoseconds
            var lossSum = 0.0, correct = 0
            for batch in 0..<batches {
                let step = (epoch - 1) * batches + batch
                let first = (epoch - 1) * options.scenesPerEpoch + batch * options.batchSize
                let scenes = try generator.scenes(first..<(first + options.batchSize))
                let targets = ShapesModel.targets(scenes)
                let input = try ShapesModel.batch(scenes.map(\.image))
                var logits = Tensor.zeros([1]), loss: Float = 0
                let seed = GradientSeed(output: ShapesModel.outputName, kind: .loss { output in
                    logits = output
                    let value = try Loss.binaryCrossEntropyWithLogits(logits: output, targets: targets)
                    loss = value.loss
                    return value.gradient
                })
                let result = try session.gradients([ShapesModel.inputName: input], seed: seed, wrt: parameters,
                                                   outputs: training.outputs)
                optimizer.learningRate = learningRate(at: step, of: steps, warmUp: warmUp)
                var values = try session.parameters(parameters)
                try optimizer.step(&values, gradients: result.gradients)
                try session.updateParameters(values)
                try training.step(session: session, result: result)
                lossSum += Double(loss)
                correct += exactMatches(logits, targets)
                progress(step + 1, steps, loss)
            }
            model = training.inferenceModel(from: session)
            model.metadata["cnn-viz.training"] = description
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            let report = EpochReport(epoch: epoch, loss: lossSum / Double(batches),
                                     trainingAccuracy: Double(correct) / Double(batches * options.batchSize),
                                     validationAccuracy: try validationAccuracy(of: model), seconds: seconds)
            try epochEnded(report, model)
        }
        return model
    }

    /// The command that reproduces this training, recorded in the model's metadata.
    public var description: String {
        "cnn-viz train shapes --epochs \(options.epochs) --seed \(options.seed) --scenes-per-epoch \(options.scenesPerEpoch) "
            + "--batch-size \(options.batchSize) --learning-rate \(options.learningRate) --two-objects \(options.twoObjectFraction)"
    }

    func learningRate(at step: Int, of steps: Int, warmUp: Int) -> Float {
        if step < warmUp { return options.learningRate * Float(step + 1) / Float(warmUp) }
        let progress = Double(step - warmUp) / Double(max(steps - warmUp, 1))
        return options.learningRate * Float(0.5 * (1 + cos(.pi * progress)))
    }

    /// Rows whose set of positive logits is exactly the set of classes present.
    func exactMatches(_ logits: Tensor, _ targets: Tensor) -> Int {
        let classes = targets.shape[1]
        let predicted = logits.floats, expected = targets.floats
        return (0..<targets.shape[0]).filter { row in
            (0..<classes).allSatisfy { (predicted[row * classes + $0] > 0) == (expected[row * classes + $0] > 0.5) }
        }.count
    }

    func validationAccuracy(of model: Model) throws -> Double {
        let scenes = try SceneGenerator(seed: validationSeed).scenes(0..<options.validationScenes, objectCount: 1)
        return try ShapesClassifier(model: model).accuracy(on: scenes)
    }
}
