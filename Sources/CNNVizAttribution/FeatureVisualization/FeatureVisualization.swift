import CNNVizRuntime
import Foundation

/// What to optimise and how; one objective per image of the batch, all at one layer.
public struct FeatureVisualizationRequest: Sendable {
    public var objectives: [VisualizationObjective]
    public var parameterization = ImageParameterization.lucent
    public var transforms = ImageTransform.standard
    public var regularization = ImageRegularization()
    /// Weight of Lucid's diversity term across the batch (`Diversity`); 0: off.
    public var diversity: Float = 0
    public var steps = 512
    public var learningRate: Float = 0.05
    /// The optimised images' size; nil: the model's input size (224 × 224 for a model that
    /// takes any size).
    public var height: Int?
    public var width: Int?
    public var seed: UInt64 = 0
    public var inputMapping = ModelInputMapping.identity

    public init(objectives: [VisualizationObjective]) { self.objectives = objectives }
}

public struct FeatureVisualizationResult: Sendable {
    /// [B, 3, H, W] in [0, 1] RGB.
    public var images: Tensor
    /// Each image's objective at the end, on the image itself (no transform; resized to the
    /// model's size if that is fixed and differs).
    public var objectives: [Float]
    /// Each step's objectives (on that step's transformed images), [step][image].
    public var history: [[Float]]
}

/// Activation maximisation (Lucid, Lucent): images in an `ImageParameterization`, pushed
/// through random `ImageTransform`s and the model's own input mapping into the model, their
/// parameters moved by Adam up the gradient of the objectives minus the regularisers, the
/// gradient coming from cnn-viz's backward pass down to the input.
///
/// One step: images ← param(θ); x ← mapping(resize(transforms(images))); run forward to the
/// objectives' layer; J = Σ_b objective_b − diversity · S − Σ_b penalty_b; θ ← Adam(θ, −∂J/∂θ).
/// The backward pass stops at the input and visits only the nodes between it and the layer.
///
/// Determinism: the parameters and the transforms' draws come from `seed` alone, and every
/// kernel splits its work the same way each run, so a seed gives bit-identical images.
/// Pitfall: a model with a fixed input size gets the transformed images resized back to it
/// (bilinear, aligned corners: Lucent resizes images below 224 the same way), which shrinks
/// them slightly after the padding; a model that takes any size gets them as they are.
public final class FeatureVisualization {
    public let session: Session
    /// Called after each step with (step, steps).
    public var progress: ((Int, Int) -> Void)?

    public init(session: Session) { self.session = session }

    /// The largest side of an optimised image: each worker's Fourier scratch holds about
    /// 5·side² floats (84 MB at 2048), and a prime side costs side² per FFT element.
    public static let largestSide = 2048
    /// Images per batch when the caller does not say (`run(_:batchSize:)`): the parameters,
    /// Adam's moments and the model's activations all grow with it.
    public static let defaultBatchSize = 32

    /// The model's first input's (height, width) when both are fixed.
    public var fixedInputSize: (height: Int, width: Int)? {
        guard let shape = session.graph.inputs.first?.shape, shape.count == 4, let height = shape[2], let width = shape[3] else { return nil }
        return (height, width)
    }

    /// Runs the request in batches of at most `batchSize` images (`defaultBatchSize` by default);
    /// batch k starts from seed + k, so the images depend on the batch size.
    public func run(_ request: FeatureVisualizationRequest, batchSize: Int?) throws -> FeatureVisualizationResult {
        let size = max(1, batchSize ?? Self.defaultBatchSize)
        guard request.objectives.count > size else { return try run(request) }
        var images = [Float](), objectives = [Float](), history = [[Float]](repeating: [], count: request.steps), shape = [Int]()
        for (k, start) in stride(from: 0, to: request.objectives.count, by: size).enumerated() {
            var part = request
            part.objectives = Array(request.objectives[start..<min(start + size, request.objectives.count)])
            part.seed = request.seed &+ UInt64(k)
            let result = try run(part)
            images += result.images.floats
            objectives += result.objectives
            for step in result.history.indices { history[step] += result.history[step] }
            shape = result.images.shape
        }
        shape[0] = request.objectives.count
        return FeatureVisualizationResult(images: Tensor(shape: shape, floats: images), objectives: objectives, history: history)
    }

    public func run(_ request: FeatureVisualizationRequest) throws -> FeatureVisualizationResult {
        guard let first = request.objectives.first else { throw CNNVizError(.invalidArgument, "no objective to optimise") }
        let layer = try session.resolveTensorName(first.layer)
        for objective in request.objectives where try session.resolveTensorName(objective.layer) != layer {
            throw CNNVizError(.invalidArgument, "the objectives of one batch must share a layer; found '\(first.layer)' and '\(objective.layer)'")
        }
        guard request.steps >= 0, request.learningRate > 0 else {
            throw CNNVizError(.invalidArgument, "steps must be ≥ 0 and the learning rate > 0, found \(request.steps) and \(request.learningRate)")
        }
        let inputName = session.graph.inputs[0].name
        let modelSize = fixedInputSize
        let height = request.height ?? modelSize?.height ?? 224, width = request.width ?? modelSize?.width ?? 224
        guard (2...Self.largestSide).contains(height), (2...Self.largestSide).contains(width) else {
            throw CNNVizError(.invalidArgument, "the optimised images' size must lie between 2×2 and \(Self.largestSide)×\(Self.largestSide), found \(width)×\(height)")
        }
        if let declared = session.graph.inputs[0].shape, declared.count == 4, let channels = declared[1], channels != request.inputMapping.channels {
            throw CNNVizError(.shapeMismatch, "the model's input '\(inputName)' takes \(channels) channels but the input mapping makes \(request.inputMapping.channels)")
                .with(tensor: inputName)
        }
        let batch = request.objectives.count
        let acceptedAnyBatch = session.acceptsAnyBatch
        session.acceptsAnyBatch = true
        defer { session.acceptsAnyBatch = acceptedAnyBatch }
        if request.diversity != 0, batch < 2 { throw CNNVizError(.invalidArgument, "diversity needs at least two images of the objective") }
        var parameters = ParameterizedImages(request.parameterization, batch: batch, height: height, width: width, seed: request.seed)
        // Checks every objective against the layer once; every transform keeps the images at
        // least this large, so a channel or position valid here is valid at every step.
        _ = try objectives(of: parameters.images(), request: request, layer: layer)
        let rectifiers = rectifierOutputs(layer)
        var generator = NetworkBuilder.SplitMix64(seed: request.seed ^ 0x5EED_7A45_F0E1_1A5E)
        var optimizer = AdamOptimizer(learningRate: request.learningRate)
        var history = [[Float]]()
        for step in 0..<request.steps {
            let images = parameters.images()
            var (x, adjoints) = (images, [(Tensor) -> Tensor]())
            for transform in request.transforms {
                let (output, adjoint) = transform.draw(using: &generator).apply(x)
                (x, adjoints) = (output, adjoints + [adjoint])
            }
            if let modelSize, x.shape[2] != modelSize.height || x.shape[3] != modelSize.width {
                let resizing = AlignedCornersResize(input: (x.shape[2], x.shape[3]), output: modelSize)
                (x, adjoints) = (resizing.apply(x), adjoints + [resizing.adjoint])
            }
            let (values, inputGradient) = try objectiveGradient(request, layer: layer, straightThrough: rectifiers, input: inputName, x: request.inputMapping.apply(x))
            history.append(values)
            var imageGradient = request.inputMapping.adjoint(inputGradient)
            for adjoint in adjoints.reversed() { imageGradient = adjoint(imageGradient) }
            var lossGradient = Self.negated(imageGradient.floats)
            _ = request.regularization.apply(images.floats, batch: batch, height: height, width: width, gradient: &lossGradient)
            optimizer.step(&parameters.parameters, gradient: parameters.parameterGradient(images: images, imageGradient: Tensor(shape: images.shape, floats: lossGradient)))
            progress?(step + 1, request.steps)
        }
        let images = parameters.images()
        return FeatureVisualizationResult(images: images, objectives: try objectives(of: images, request: request, layer: layer), history: history)
    }

    /// −values, in parallel chunks (a batch's images: millions of values per step).
    static func negated(_ values: [Float]) -> [Float] {
        [Float](unsafeUninitializedCapacity: values.count) { out, initialized in
            values.withUnsafeBufferPointer { values in
                let (source, target) = (values.baseAddress!, out.baseAddress!)
                Parallel.forChunks(values.count) { range in
                    for i in range { target[i] = -source[i] }
                }
            }
            initialized = values.count
        }
    }

    /// The objectives of images as they are (resized to a fixed model size if need be); throws
    /// when an objective does not fit the layer (a channel or position out of range).
    public func objectives(of images: Tensor, request: FeatureVisualizationRequest, layer: String) throws -> [Float] {
        var x = images
        if let modelSize = fixedInputSize, x.shape[2] != modelSize.height || x.shape[3] != modelSize.width {
            x = AlignedCornersResize(input: (x.shape[2], x.shape[3]), output: modelSize).apply(x)
        }
        let acceptedAnyBatch = session.acceptsAnyBatch
        session.acceptsAnyBatch = true
        defer { session.acceptsAnyBatch = acceptedAnyBatch }
        let y = try session.run([session.graph.inputs[0].name: request.inputMapping.apply(x)], outputs: [layer])[layer]!
        var unused = [Float](repeating: 0, count: y.count)
        for objective in request.objectives { try objective.validate(shape: y.shape) }
        let values = y.floats
        return request.objectives.enumerated().map { b, objective in objective.evaluate(values, shape: y.shape, item: b, gradient: &unused) }
    }

    /// The outputs of the ReLUs that make `layer` (directly, or through one Concat), which the
    /// backward pass treats as the identity (`straightThrough`): the objective's gradient reaches the
    /// pre-activation even where the ReLU is off. Without it, a channel that is 0 at every
    /// position of the starting image (a grey, nearly uniform one) has no gradient and never
    /// moves; Lucid optimises its InceptionV1 channels at the `_pre_relu` tensors for the same
    /// reason. The objective itself is still read after the ReLU.
    func rectifierOutputs(_ layer: String) -> Set<String> {
        let producers = session.graph.nodes.filter { $0.outputs.contains(layer) }
        let makers = producers.flatMap { node in
            node.opType == "Concat" ? session.graph.nodes.filter { !Set($0.outputs).isDisjoint(with: node.inputs) } : [node]
        }
        return Set(makers.filter { $0.opType == "Relu" }.map(\.outputs[0]))
    }

    /// The objectives on x, and ∂J/∂x (J: their sum minus the diversity term), item by item
    /// when the model fixes its batch. The objectives have been validated against the layer.
    func objectiveGradient(_ request: FeatureVisualizationRequest, layer: String, straightThrough: Set<String>, input: String,
                           x: Tensor) throws -> ([Float], Tensor) {
        let batch = x.shape[0]
        let itemByItem = batch > 1 && session.fixesBatch(of: input)
        if itemByItem && request.diversity != 0 {
            throw CNNVizError(.invalidArgument, "the model fixes its batch size at 1, so the diversity term (which compares the images of one batch) can't be computed")
        }
        let groups = itemByItem ? (0..<batch).map { [$0] } : [Array(0..<batch)]
        var values = [Float](repeating: 0, count: batch), gradients = [Tensor]()
        let plane = x.count / batch, xs = x.floats
        for group in groups {
            let part = group.count == batch ? x : Tensor(shape: [1] + x.shape.dropFirst(), floats: Array(xs[(group[0] * plane)..<((group[0] + 1) * plane)]))
            let seed = GradientSeed(output: layer, kind: .loss { y in
                let (shape, ys) = (y.shape, y.floats)
                var cotangent = [Float](repeating: 0, count: y.count)
                for (k, b) in group.enumerated() {
                    values[b] = request.objectives[b].evaluate(ys, shape: shape, item: k, gradient: &cotangent)
                }
                if request.diversity != 0 { _ = Diversity.apply(ys, shape: shape, weight: request.diversity, gradient: &cotangent) }
                return Tensor(shape: shape, floats: cotangent)
            })
            gradients.append(try session.gradients([input: part], seed: seed, wrt: [input], straightThrough: straightThrough).gradients[input]!)
        }
        return (values, gradients.count == 1 ? gradients[0] : Tensor(shape: x.shape, floats: gradients.flatMap(\.floats)))
    }
}
