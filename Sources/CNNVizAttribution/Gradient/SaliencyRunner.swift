import CNNVizRuntime
import Foundation

/// What to attribute and how.
public struct SaliencyRequest: TargetedRequest {
    public var targets: [any AttributionTarget]
    public var logits: String? = nil
    /// Integrated gradients: points on the path, how they are placed, and the baseline.
    public var steps = 50
    public var integration = IntegrationRule.gaussLegendre
    public var baseline = Baseline.zero
    /// Wraps any method in a noise tunnel.
    public var noise: NoiseTunnel? = nil
    /// Guided Grad-CAM's layer; nil means `Session.defaultTargetLayer`.
    public var layer: String? = nil
    /// Occlusion window and stride over (H, W), all channels at once, and the value it sets.
    public var window = (15, 15)
    public var stride = (8, 8)
    public var occlusionValue: Float = 0
    /// Inputs per forward or backward batch.
    public var batchSize = 32
    /// Bytes of activations a batch may hold (`MemoryBudget`); nil leaves `batchSize` as given.
    public var memoryLimit: Int? = MemoryBudget.defaultBytes

    public init(targets: [any AttributionTarget]) { self.targets = targets }

    /// Class targets along axis 1: one class for every image, or one per image.
    public init(classes: [Int]) { self.init(targets: classes.map { ClassTarget($0) }) }
}

/// An attribution and what it explains.
public struct SaliencyResult {
    /// Signed, shaped like the input [N, C, H, W].
    public var attribution: Tensor
    /// For pictures: |attribution| max over channels, divided by its max per image, [N, H, W].
    public var map: Tensor
    public var logits: String
    public var scores: [Float]
    /// What each image's target is, in words.
    public var targets: [String]
    public var warnings: [String]
    /// The images per pass that `MemoryBudget` chose, for methods that batch copies of an image.
    public var batchSize: Int?
}

/// Runs the gradient family of attribution methods in Captum's definitions, in batches.
public final class SaliencyRunner {
    public let session: Session
    /// Called with (done, total) while batched methods run.
    public var progress: ((Int, Int) -> Void)?

    public init(session: Session) { self.session = session }

    var inputName: String { session.graph.inputs[0].name }

    public func run(_ method: SaliencyMethod, input: Tensor, request: SaliencyRequest) throws -> SaliencyResult {
        guard input.rank == 4 else { throw CNNVizError(.shapeMismatch, "attribution needs an [N, C, H, W] input, found \(input.shape)") }
        let batch = input.shape[0]
        var request = request
        let batches = method == .integratedGradients || method == .occlusion || request.noise != nil
        if batches {
            request.batchSize = try MemoryBudget.batchSize(requested: request.batchSize, bytes: request.memoryLimit, session: session,
                                                           input: input, forGradients: method != .occlusion)
        }
        let targets = try request.targetSet(images: batch, session: session)
        let logits = targets.tensor
        let scores = try targets.scores(try session.run([inputName: input], outputs: [logits])[logits]!)
        var attributions = [Float]()
        for image in 0..<batch {
            let x = input.slice(image..<(image + 1))
            let target = targets.target(for: image)
            let attribution = try request.noise.map { try noiseTunnel($0, method, x, target: target, logits: logits, request: request) }
                ?? attribute(method, x, target: target, logits: logits, request: request)
            attributions += attribution.floats
        }
        let attribution = Tensor(shape: input.shape, floats: attributions)
        var warnings = [String]()
        let map = Self.magnitudeMap(attribution)
        try NonFiniteCheck.require(attribution, what: "the \(method.rawValue) attribution", input: input, model: session.model.source)
        let plane = input.shape[2] * input.shape[3]
        for b in 0..<batch where !map.floats[(b * plane)..<((b + 1) * plane)].contains(where: { $0 != 0 }) {
            warnings.append("the \(method.rawValue) attribution of image \(b) for \(targets.target(for: b).summary) is all zero")
        }
        return SaliencyResult(attribution: attribution, map: map, logits: logits, scores: scores, targets: targets.summaries,
                              warnings: warnings, batchSize: batches ? request.batchSize : nil)
    }

    /// One image [1, C, H, W].
    func attribute(_ method: SaliencyMethod, _ x: Tensor, target: any AttributionTarget, logits: String, request: SaliencyRequest) throws -> Tensor {
        switch method {
        case .gradient, .inputXGradient, .guidedBackprop, .deconvnet:
            return try gradientAttributions(method, [x], target: target, logits: logits, request: request)[0]
        case .integratedGradients:
            return try integratedGradients(x, target: target, logits: logits, request: request)
        case .guidedGradCAM:
            return try guidedGradCAM(x, target: target, logits: logits, request: request)
        case .occlusion:
            return try occlusion(x, target: target, logits: logits, request: request)
        }
    }

    /// For the one-gradient methods (`SaliencyMethod.gradientRules` non-nil): ∂target/∂x for
    /// each input under the method's ReLU rules, times x for input × gradient.
    func gradientAttributions(_ method: SaliencyMethod, _ inputs: [Tensor], target: any AttributionTarget, logits: String,
                              request: SaliencyRequest, reportsProgress: Bool = true) throws -> [Tensor] {
        let grads = try gradients(inputs, target: target, logits: logits, request: request,
                                  rules: method.gradientRules ?? [:], reportsProgress: reportsProgress)
        guard method == .inputXGradient else { return grads }
        return zip(inputs, grads).map { x, g in Tensor(shape: x.shape, floats: zip(x.floats, g.floats).map { $0 * $1 }) }
    }

    /// ∂target/∂x for each of several inputs, run in batches (one at a time if the graph
    /// cannot take a batch).
    func gradients(_ inputs: [Tensor], target: any AttributionTarget, logits: String, request: SaliencyRequest,
                   rules: [String: BackwardRule] = [:], reportsProgress: Bool = true) throws -> [Tensor] {
        var result = [Tensor]()
        var start = 0
        session.acceptsAnyBatch = true
        defer { session.acceptsAnyBatch = false }
        let batchSize = session.fixesBatch(of: inputName) ? 1 : request.batchSize
        while start < inputs.count {
            let count = min(batchSize, inputs.count - start)
            let items = Array(inputs[start..<(start + count)])
            let batch = count == 1 ? items[0] : Tensor(shape: [count] + Array(items[0].shape.dropFirst()), floats: items.flatMap(\.floats))
            let seed = TargetSet.repeating(target, count: count, tensor: logits).seed
            let g = try session.gradients([inputName: batch], seed: seed, wrt: [inputName], rules: rules).gradients[inputName]!
            result += count == 1 ? [g] : (0..<count).map { g.slice($0..<($0 + 1)) }
            start += count
            if reportsProgress && inputs.count > 1 { progress?(start, inputs.count) }
        }
        return result
    }

    /// (x − x′) ⊙ Σᵢ sᵢ·∇f(x′ + αᵢ(x − x′)).
    func integratedGradients(_ x: Tensor, target: any AttributionTarget, logits: String, request: SaliencyRequest) throws -> Tensor {
        let baseline = try baselineTensor(request.baseline, for: x)
        let (xv, bv) = (x.floats, baseline.floats)
        let points = request.integration.points(request.steps)
        let inputs = points.map { point in
            Tensor(shape: x.shape, floats: zip(xv, bv).map { x, b in Float(Double(b) + point.alpha * Double(x - b)) })
        }
        let grads = try gradients(inputs, target: target, logits: logits, request: request)
        var total = [Double](repeating: 0, count: xv.count)
        for (point, g) in zip(points, grads) {
            for (i, v) in g.floats.enumerated() { total[i] += point.step * Double(v) }
        }
        return Tensor(shape: x.shape, floats: (0..<xv.count).map { Float(Double(xv[$0] - bv[$0]) * total[$0]) })
    }

    func baselineTensor(_ baseline: Baseline, for x: Tensor) throws -> Tensor {
        switch baseline {
        case .zero: return Tensor.zeros(x.shape)
        case .custom(let tensor):
            guard tensor.count == x.count else {
                throw CNNVizError(.shapeMismatch, "the baseline has shape \(tensor.shape); the input has \(x.shape)")
            }
            return tensor.reshaped(x.shape)
        case .blur(let sigma): return GaussianBlur.apply(x, sigma: sigma)
        }
    }

    /// Captum's GuidedGradCam: guided backprop ⊙ ReLU(Σ_c mean_hw(g)·A) at the layer, the
    /// latter unnormalised and upsampled nearest (source index ⌊dst·in/out⌋): the CAM runner's
    /// Grad-CAM with a signed map and nearest upsampling, times the guided gradient.
    func guidedGradCAM(_ x: Tensor, target: any AttributionTarget, logits: String, request: SaliencyRequest) throws -> Tensor {
        let guided = try gradients([x], target: target, logits: logits, request: request, rules: ReluGradientMode.guided.rules)[0]
        var camRequest = CAMRequest(targets: [target])
        camRequest.logits = logits
        camRequest.layers = request.layer.map { [$0] } ?? []
        camRequest.keepSigned = true
        camRequest.upsampling = .nearest
        let cam = try CAMRunner(session: session).run(GradCAM(), input: x, request: camRequest).map.floats.map { max($0, 0) }
        let plane = x.shape[2] * x.shape[3]
        return Tensor(shape: x.shape, floats: guided.floats.enumerated().map { $0.element * cam[$0.offset % plane] })
    }

    /// |attribution| max over channels, ÷ its max per image.
    public static func magnitudeMap(_ attribution: Tensor) -> Tensor {
        let (batch, channels, plane) = (attribution.shape[0], attribution.shape[1], attribution.shape[2] * attribution.shape[3])
        let values = attribution.floats
        var map = [Float](repeating: 0, count: batch * plane)
        for b in 0..<batch {
            for c in 0..<channels { for i in 0..<plane { map[b * plane + i] = max(map[b * plane + i], abs(values[(b * channels + c) * plane + i])) } }
            let high = map[(b * plane)..<((b + 1) * plane)].max() ?? 0
            if high > 0 { for i in (b * plane)..<((b + 1) * plane) { map[i] /= high } }
        }
        return Tensor(shape: [batch, attribution.shape[2], attribution.shape[3]], floats: map)
    }
}
