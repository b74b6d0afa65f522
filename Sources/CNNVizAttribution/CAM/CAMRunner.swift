import CNNVizRuntime

/// What to explain: classes, layers and options shared by every CAM method.
public struct CAMRequest {
    /// One class for every image, or one per image.
    public var classes: [Int]
    /// Layers (tensor or node names); empty means `Session.defaultTargetLayer`.
    public var layers: [String] = []
    /// The tensor the targets are read from; nil means the logit before the output's Softmax,
    /// or the output itself.
    public var logits: String? = nil
    /// Replace Σ_c by the first principal component of the weighted activations.
    public var eigenSmooth = false
    /// Keep the signed map: no ReLU and no min-max, only the resize and the layer average.
    public var keepSigned = false
    /// Forward passes per batch for ScoreCAM and AblationCAM.
    public var batchSize = 32
    /// Average the maps of six augmented inputs: × 0.9, 1, 1.1, each with and without a
    /// horizontal flip (flipped back), with no rescaling after the mean (pytorch-grad-cam's
    /// aug_smooth, its maxima can end below 1).
    public var augSmooth = false

    public init(classes: [Int]) { self.classes = classes }

    func target(for image: Int) -> Int { classes.count == 1 ? classes[0] : classes[image] }
}

/// The maps and what they explain.
public struct CAMResult {
    /// [B, H, W] at the input's size, in [0, 1] unless `keepSigned`.
    public var map: Tensor
    public var layers: [String]
    public var logits: String
    /// The target score (logit) of each image.
    public var scores: [Float]
    /// Things a user should know, e.g. an all-zero map.
    public var warnings: [String]
}

/// Runs any CAM method: forward (and backward to the layers only, for gradient methods),
/// then per layer the method's map, ReLU, per-image min-max and the resize to the input
/// (cv2 INTER_LINEAR), then the layers' average, ReLU'd and min-maxed once more, exactly as
/// pytorch-grad-cam does even for one layer.
public final class CAMRunner {
    public let session: Session
    /// Called with (done, total) while batched methods run.
    public var progress: ((Int, Int) -> Void)?

    public init(session: Session) { self.session = session }

    var inputName: String { session.graph.inputs[0].name }

    /// The logits tensor and the layers a request resolves to.
    public func resolve(_ request: CAMRequest, input: Tensor) throws -> (logits: String, layers: [String]) {
        let output = session.graph.outputs[0].name
        let logits = try request.logits.map { try session.resolveTensorName($0) } ?? session.logitsBeforeSoftmax(output) ?? output
        if !request.layers.isEmpty { return (logits, try request.layers.map { try session.resolveTensorName($0) }) }
        let candidates = try session.headCandidates(for: logits)
        let values = try session.run([inputName: input], outputs: candidates)
        return (logits, [try session.defaultTargetLayer(for: logits) { values[$0]!.shape }])
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
        guard request.classes.count == 1 || request.classes.count == batch else {
            throw CNNVizError(.invalidArgument, "\(request.classes.count) classes for \(batch) images; give one class, or one per image")
        }
        if let fullGrad = method as? FullGrad {
            let output = session.graph.outputs[0].name
            let logits = try request.logits.map { try session.resolveTensorName($0) } ?? session.logitsBeforeSoftmax(output) ?? output
            let (map, scores) = try fullGrad.run(self, input: input, request: request, logits: logits)
            let plane = height * width
            let warnings = (0..<batch).filter { b in !map[(b * plane)..<((b + 1) * plane)].contains { $0 != 0 } }
                .map { "the fullgrad map of image \($0) is all zero" }
            return CAMResult(map: Tensor(shape: [batch, height, width], floats: map), layers: ["input and every Conv/BN bias"], logits: logits, scores: scores,
                             warnings: warnings)
        }
        let (logits, layers) = try resolve(request, input: input)
        var activations = [String: Tensor](), gradients = [String: Tensor](), logitValues: Tensor
        if method.usesGradients {
            let result = try session.gradients([inputName: input], seed: .logit(logits, classes: request.classes), wrt: layers,
                                               outputs: layers)
            gradients = result.gradients
            for layer in layers { activations[layer] = result.outputs[layer] }
            logitValues = result.outputs[logits]!
        } else {
            let values = try session.run([inputName: input], outputs: layers + [logits])
            for layer in layers { activations[layer] = values[layer] }
            logitValues = values[logits]!
        }
        let scores = try (0..<batch).map { try CAMRunner.score(logitValues, image: $0, class: request.target(for: $0), logits: logits) }
        var perLayer = [[Float]]()
        for layer in layers {
            let a = activations[layer]!
            guard a.rank == 4, a.isFloatingPoint else {
                throw CNNVizError(.shapeMismatch,
                                  "layer '\(layer)' has shape \(a.shape); CAM methods need a 4-D [N, C, H, W] activation",
                                  location: session.model.source)
            }
            let layerInput = CAMLayerInput(layer: layer, activations: a, gradients: gradients[layer], runner: self, request: request,
                                           input: input, scores: scores, logits: logits)
            var map = try method.map(layerInput).map { $0.isNaN ? 0 : $0 }
            if !request.keepSigned {
                map = map.map { max($0, 0) }
                CAMMath.minMax(&map, images: batch)
            }
            perLayer.append(CAMMath.resize(map, images: batch, from: (a.shape[2], a.shape[3]), to: (height, width)))
        }
        var map = [Float](repeating: 0, count: batch * height * width)
        for layerMap in perLayer {
            for i in map.indices { map[i] += (request.keepSigned ? layerMap[i] : max(layerMap[i], 0)) / Float(perLayer.count) }
        }
        var warnings = [String]()
        if !request.keepSigned { CAMMath.minMax(&map, images: batch) }
        let plane = height * width
        for b in 0..<batch where !map[(b * plane)..<((b + 1) * plane)].contains(where: { $0 != 0 }) {
            warnings.append("the \(method.name) map of image \(b) for class \(request.target(for: b)) at \(layers.joined(separator: ", ")) is all zero: no positive evidence at this layer")
        }
        return CAMResult(map: Tensor(shape: [batch, height, width], floats: map), layers: layers, logits: logits,
                         scores: scores, warnings: warnings)
    }

    /// Σ over trailing positions of logits[n, class].
    static func score(_ logits: Tensor, image: Int, class index: Int, logits name: String) throws -> Float {
        let values = logits.floats
        let batch = logits.rank >= 2 ? logits.shape[0] : 1
        let classes = logits.rank >= 2 ? logits.shape[1] : values.count
        guard index >= 0 && index < classes else {
            throw CNNVizError(.invalidArgument, "class index \(index) is out of range for '\(name)' of shape \(logits.shape): expected 0..<\(classes)")
        }
        let trailing = values.count / max(batch * classes, 1)
        let start = (image * classes + index) * trailing
        return values[start..<(start + trailing)].reduce(0, +)
    }

    /// The target score of each item of an input batch (ScoreCAM); one item at a time if the
    /// graph cannot take the batch (a Reshape baked for batch 1, say).
    func targetScores(input batch: Tensor, class index: Int, logits: String) throws -> [Float] {
        try batched(count: batch.shape[0]) { range in
            let slice = range.count == batch.shape[0] ? batch : batch.slice(range)
            return try session.run([inputName: slice], outputs: [logits])[logits]!
        } scores: { try CAMRunner.score($0, image: $1, class: index, logits: logits) }
    }

    /// The target score for each item of a batch of activations fed in at `layer` (AblationCAM);
    /// only the nodes after the layer run.
    func targetScores(layer: String, activations: Tensor, input: Tensor, image: Int, class index: Int, logits: String) throws -> [Float] {
        let single = input.slice(image..<(image + 1))
        return try batched(count: activations.shape[0]) { range in
            let slice = range.count == activations.shape[0] ? activations : activations.slice(range)
            return try session.run([inputName: single], outputs: [logits], given: [layer: slice])[logits]!
        } scores: { try CAMRunner.score($0, image: $1, class: index, logits: logits) }
    }

    func batched(count: Int, _ run: (Range<Int>) throws -> Tensor, scores: (Tensor, Int) throws -> Float) throws -> [Float] {
        session.acceptsAnyBatch = true
        defer { session.acceptsAnyBatch = false }
        do {
            let output = try run(0..<count)
            return try (0..<count).map { try scores(output, $0) }
        } catch let error as CNNVizError where count > 1 && error.code == .shapeMismatch {
            return try (0..<count).map { try scores(try run($0..<($0 + 1)), 0) }
        }
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
    func slice(_ range: Range<Int>) -> Tensor {
        let item = count / Swift.max(shape[0], 1)
        var newShape = shape
        newShape[0] = range.count
        return Tensor(shape: newShape, floats: Array(floats[(range.lowerBound * item)..<(range.upperBound * item)]))
    }
}
