import CNNVizRuntime

/// What to explain: targets, layers and options shared by every CAM method.
public struct CAMRequest: TargetedRequest {
    public var targets: [any AttributionTarget]
    public var logits: String? = nil
    /// Layers (tensor or node names); empty means `Session.defaultTargetLayer`.
    public var layers: [String] = []
    /// Replace Σ_c by the first principal component of the weighted activations.
    public var eigenSmooth = false
    /// Keep the signed map: no ReLU and no min-max, only the resize and the layer average.
    public var keepSigned = false
    /// How each layer's map is resized to the input: bilinear with half-pixel centres
    /// (pytorch-grad-cam, OpenCV), or nearest (Captum's LayerGradCam, for Guided Grad-CAM).
    public var upsampling = Upsampling.bilinear
    /// Forward passes per batch for ScoreCAM and AblationCAM.
    public var batchSize = 32
    /// Bytes of activations a batch may hold (`MemoryBudget`); nil leaves `batchSize` as given.
    public var memoryLimit: Int? = MemoryBudget.defaultBytes
    /// Average the maps of six augmented inputs: × 0.9, 1, 1.1, each with and without a
    /// horizontal flip (flipped back), with no rescaling after the mean (pytorch-grad-cam's
    /// aug_smooth, its maxima can end below 1).
    public var augSmooth = false

    public init(targets: [any AttributionTarget]) { self.targets = targets }

    /// Class targets along axis 1: one class for every image, or one per image.
    public init(classes: [Int]) { self.init(targets: classes.map { ClassTarget($0) }) }

    public enum Upsampling: Sendable { case bilinear, nearest }
}

/// The maps and what they explain.
public struct CAMResult {
    /// [B, H, W] at the input's size, in [0, 1] unless `keepSigned`.
    public var map: Tensor
    public var layers: [String]
    public var logits: String
    /// The target score of each image.
    public var scores: [Float]
    /// What each image's target is, in words.
    public var targets: [String]
    /// Things a user should know, e.g. an all-zero map.
    public var warnings: [String]
    /// The masked passes per batch that `MemoryBudget` chose (ScoreCAM, AblationCAM).
    public var batchSize: Int? = nil
}

/// Runs any CAM method: forward (and backward to the layers only, for gradient methods),
/// then per layer the method's map, ReLU, per-image min-max and the resize to the input
/// (cv2 INTER_LINEAR), then the layers' average, ReLU'd and min-maxed once more, exactly as
/// pytorch-grad-cam does even for one layer.
public final class CAMRunner {
    public let session: Session
    /// Called with (done, total) while batched methods run.
    public var progress: ((Int, Int) -> Void)?

    /// The default layer per target tensor and input shape: finding it runs the model once.
    private var defaultLayers = [String: String]()

    public init(session: Session) { self.session = session }

    var inputName: String { session.graph.inputs[0].name }

    /// The targets and the layers a request resolves to.
    public func resolve(_ request: CAMRequest, input: Tensor) throws -> (targets: TargetSet, layers: [String]) {
        let targets = try request.targetSet(images: input.shape[0], session: session)
        if !request.layers.isEmpty { return (targets, try request.layers.map { try session.resolveTensorName($0) }) }
        let key = "\(targets.tensor) \(input.shape.dropFirst())"
        if let layer = defaultLayers[key] { return (targets, [layer]) }
        let candidates = try session.headCandidates(for: targets.tensor)
        let values = try session.run([inputName: input], outputs: candidates)
        let layer = try session.defaultTargetLayer(for: targets.tensor) { values[$0]!.shape }
        defaultLayers[key] = layer
        return (targets, [layer])
    }

    public func run(_ method: any CAMMethod, input: Tensor, request: CAMRequest) throws -> CAMResult {
        guard request.augSmooth else { return try runOnce(method, input: input, request: request) }
        var plain = request
        plain.augSmooth = false
        var results = [CAMResult]()
        for flip in [false, true] {
            for factor: Float in [0.9, 1, 1.1] {
                let augmented = Tensor(shape: input.shape, floats: input.floats.map { $0 * factor })
                var result = try runOnce(method, input: flip ? augmented.horizontallyFlipped() : augmented, request: plain)
                if flip { result.map = result.map.horizontallyFlipped() }
                results.append(result)
            }
        }
        var mean = results[0]
        mean.map = Tensor(shape: mean.map.shape, floats: results.map(\.map.floats).reduce([Float](repeating: 0, count: mean.map.count)) {
            zip($0, $1).map { $0 + $1 / Float(results.count) }
        })
        mean.scores = results[1].scores
        return mean
    }

    func runOnce(_ method: any CAMMethod, input: Tensor, request: CAMRequest) throws -> CAMResult {
        guard input.rank == 4 else {
            throw CNNVizError(.shapeMismatch, "CAM methods need an [N, C, H, W] input, found \(input.shape)")
        }
        let batch = input.shape[0], (height, width) = (input.shape[2], input.shape[3])
        if let fullGrad = method as? FullGrad {
            let targets = try request.targetSet(images: batch, session: session)
            let (map, scores) = try fullGrad.run(self, input: input, targets: targets)
            let plane = height * width
            let warnings = (0..<batch).filter { b in !map[(b * plane)..<((b + 1) * plane)].contains { $0 != 0 } }
                .map { "the fullgrad map of image \($0) is all zero" }
            return CAMResult(map: Tensor(shape: [batch, height, width], floats: map), layers: ["input and every Conv/BN bias"],
                             logits: targets.tensor, scores: scores, targets: targets.summaries, warnings: warnings)
        }
        guard let method = method as? any LayerMapMethod else {
            throw CNNVizError(.invalidArgument, "CAM method '\(method.name)' neither maps a layer nor is FullGrad")
        }
        var request = request
        let batches = method is ScoreCAM || method is AblationCAM
        if batches {
            request.batchSize = try MemoryBudget.batchSize(requested: request.batchSize, bytes: request.memoryLimit, session: session,
                                                           input: input, forGradients: false)
        }
        let (targets, layers) = try resolve(request, input: input)
        let logits = targets.tensor
        var activations = [String: Tensor](), gradients = [String: Tensor](), logitValues: Tensor
        if method.usesGradients {
            let result = try session.gradients([inputName: input], seed: targets.seed, wrt: layers, outputs: layers)
            gradients = result.gradients
            for layer in layers { activations[layer] = result.outputs[layer] }
            logitValues = result.outputs[logits]!
        } else {
            let values = try session.run([inputName: input], outputs: layers + [logits])
            for layer in layers { activations[layer] = values[layer] }
            logitValues = values[logits]!
        }
        let scores = try targets.scores(logitValues)
        var perLayer = [[Float]]()
        for layer in layers {
            let a = activations[layer]!
            guard a.rank == 4, a.isFloatingPoint else {
                throw CNNVizError(.shapeMismatch,
                                  "layer '\(layer)' has shape \(a.shape); CAM methods need a 4-D [N, C, H, W] activation",
                                  location: session.model.source)
            }
            let layerInput = CAMLayerInput(layer: layer, activations: a, gradients: gradients[layer], runner: self, request: request,
                                           input: input, scores: scores, targets: targets)
            var map = try method.map(layerInput).map { $0.isNaN ? 0 : $0 }
            if !request.keepSigned {
                map = map.map { max($0, 0) }
                CAMMath.minMax(&map, images: batch)
            }
            let resize = request.upsampling == .nearest ? CAMMath.nearestResize : CAMMath.resize
            perLayer.append(resize(map, batch, (a.shape[2], a.shape[3]), (height, width)))
        }
        var map = [Float](repeating: 0, count: batch * height * width)
        for layerMap in perLayer {
            for i in map.indices { map[i] += (request.keepSigned ? layerMap[i] : max(layerMap[i], 0)) / Float(perLayer.count) }
        }
        var warnings = [String]()
        try NonFiniteCheck.require(Tensor(shape: [batch, height, width], floats: map), what: "the \(method.name) map", input: input, model: session.model.source)
        if !request.keepSigned { CAMMath.minMax(&map, images: batch) }
        let plane = height * width
        for b in 0..<batch where !map[(b * plane)..<((b + 1) * plane)].contains(where: { $0 != 0 }) {
            warnings.append("the \(method.name) map of image \(b) for \(targets.target(for: b).summary) at \(layers.joined(separator: ", ")) is all zero: no positive evidence at this layer")
        }
        return CAMResult(map: Tensor(shape: [batch, height, width], floats: map), layers: layers, logits: logits,
                         scores: scores, targets: targets.summaries, warnings: warnings, batchSize: batches ? request.batchSize : nil)
    }

    /// The score of one target for each item of an input batch (ScoreCAM, occlusion: perturbed
    /// copies of one image); one item at a time if the graph cannot take the batch.
    func targetScores(input batch: Tensor, target: any AttributionTarget, tensor: String) throws -> [Float] {
        try batched(count: batch.shape[0], target: target, tensor: tensor) { range in
            let slice = range.count == batch.shape[0] ? batch : batch.slice(range)
            return try session.run([inputName: slice], outputs: [tensor])[tensor]!
        }
    }

    /// The score of one target for each item of a batch of activations fed in at `layer`
    /// (AblationCAM); only the nodes after the layer run.
    func targetScores(layer: String, activations: Tensor, input: Tensor, image: Int, target: any AttributionTarget,
                      tensor: String) throws -> [Float] {
        let single = input.slice(image..<(image + 1))
        return try batched(count: activations.shape[0], target: target, tensor: tensor) { range in
            let slice = range.count == activations.shape[0] ? activations : activations.slice(range)
            return try session.run([inputName: single], outputs: [tensor], given: [layer: slice])[tensor]!
        }
    }

    func batched(count: Int, target: any AttributionTarget, tensor: String, _ run: (Range<Int>) throws -> Tensor) throws -> [Float] {
        session.acceptsAnyBatch = true
        defer { session.acceptsAnyBatch = false }
        let scores = { (y: Tensor, items: Int) in
            try TargetItem.items(of: y, batch: items, name: tensor).map { try target.score($0) }
        }
        guard count > 1, !session.fixesBatch(of: inputName) else {
            return try (0..<count).flatMap { try scores(try run($0..<($0 + 1)), 1) }
        }
        return try scores(try run(0..<count), count)
    }
}

extension Tensor {
    /// The last axis reversed.
    func horizontallyFlipped() -> Tensor {
        let width = shape.last ?? 1
        let values = floats
        return Tensor(shape: shape, floats: (0..<values.count).map { i in values[i - i % width + (width - 1 - i % width)] })
    }

    /// Items `range` along the first axis.
    public func slice(_ range: Range<Int>) -> Tensor {
        let item = count / Swift.max(shape[0], 1)
        var newShape = shape
        newShape[0] = range.count
        return Tensor(shape: newShape, floats: Array(floats[(range.lowerBound * item)..<(range.upperBound * item)]))
    }
}
