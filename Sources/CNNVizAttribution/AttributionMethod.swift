import CNNVizRuntime

/// Every attribution method behind one interface: the CAM family (Grad-CAM and its kin,
/// FullGrad) and the gradient family (saliency, integrated gradients, occlusion, …).
///
/// `explain` takes one `AttributionRequest`: the shared part (targets, the tensor they read,
/// the layer, the batch) is resolved the same way for both families by their runners, and
/// each family's own knobs sit in `request.cam` or `request.gradient`. The result is a
/// [B, H, W] map at the input's size, larger = more important, one per image.
public enum AttributionMethod {
    case cam(any CAMMethod)
    case gradient(SaliencyMethod)

    public var name: String {
        switch self {
        case .cam(let method): return method.name
        case .gradient(let method): return method.rawValue
        }
    }

    /// Every method of the attribution library: the CAM family, then the gradient family.
    public static var all: [AttributionMethod] {
        CAMMethods.all.map { .cam($0) } + SaliencyMethod.allCases.map { .gradient($0) }
    }

    public static func named(_ name: String) throws -> AttributionMethod {
        guard let method = all.first(where: { $0.name == name }) else {
            throw CNNVizError(.invalidArgument, "unknown attribution method '\(name)'; expected one of \(all.map(\.name).joined(separator: ", "))")
        }
        return method
    }

    /// Explains `input` [B, C, H, W] for the request's targets.
    public func explain(_ input: Tensor, session: Session, request: AttributionRequest) throws -> Attribution {
        switch self {
        case .cam(let method):
            var cam = request.cam
            cam.targets = request.targets
            cam.logits = request.logits
            cam.layers = request.layer.map { [$0] } ?? cam.layers
            cam.batchSize = request.batchSize
            cam.memoryLimit = request.memoryLimit
            let result = try CAMRunner(session: session).run(method, input: input, request: cam)
            return Attribution(method: name, map: result.map, attribution: nil, layers: result.layers, tensor: result.logits,
                               scores: result.scores, targets: result.targets, warnings: result.warnings, batchSize: result.batchSize)
        case .gradient(let method):
            var gradient = request.gradient
            gradient.targets = request.targets
            gradient.logits = request.logits
            gradient.layer = request.layer ?? gradient.layer
            gradient.batchSize = request.batchSize
            gradient.memoryLimit = request.memoryLimit
            let result = try SaliencyRunner(session: session).run(method, input: input, request: gradient)
            return Attribution(method: name, map: result.map, attribution: result.attribution, layers: method == .guidedGradCAM ? gradient.layer.map { [$0] } ?? [] : [],
                               tensor: result.logits, scores: result.scores, targets: result.targets, warnings: result.warnings,
                               batchSize: result.batchSize)
        }
    }
}

/// What any method explains, and how.
public struct AttributionRequest: TargetedRequest {
    public var targets: [any AttributionTarget]
    public var logits: String? = nil
    /// The CAM layer (nil: the default layer); for the gradient family, the layer that
    /// layer-conditioned methods (guided Grad-CAM) use.
    public var layer: String? = nil
    /// Images per forward/backward pass, at most.
    public var batchSize = 32
    /// Bytes of activations a batch may hold (`MemoryBudget`); nil leaves `batchSize` as given.
    public var memoryLimit: Int? = MemoryBudget.defaultBytes
    /// The CAM family's own settings (eigen-smoothing, signed maps, upsampling, aug-smoothing);
    /// its targets, layers and batch come from the fields above.
    public var cam = CAMRequest(targets: [])
    /// The gradient family's own settings (steps, baseline, noise tunnel, occlusion window).
    public var gradient = SaliencyRequest(targets: [])

    public init(targets: [any AttributionTarget]) { self.targets = targets }
}

/// One method's explanation of a batch.
public struct Attribution {
    public var method: String
    /// [B, H, W], larger = more important: a CAM, or |attribution| max over channels ÷ its max.
    public var map: Tensor
    /// The gradient family's signed per-pixel attribution [B, C, H, W]; nil for CAM methods.
    public var attribution: Tensor?
    /// The layers a CAM was taken at.
    public var layers: [String]
    /// The tensor the targets read.
    public var tensor: String
    public var scores: [Float]
    public var targets: [String]
    public var warnings: [String]
    /// The images per pass that the memory budget chose, for methods that batch copies of an image.
    public var batchSize: Int?
}
