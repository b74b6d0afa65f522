import CNNVizAttribution
import CNNVizRuntime

/// Any attribution method that `shapes eval` can score: a CAM method or a gradient method.
public enum AttributionMethod {
    case cam(any CAMMethod)
    case saliency(SaliencyMethod)

    public var name: String {
        switch self {
        case .cam(let method): return method.name
        case .saliency(let method): return method.rawValue
        }
    }

    /// Every method of the attribution library: the CAM family, then the gradient family.
    public static var all: [AttributionMethod] {
        CAMMethods.all.map { .cam($0) } + SaliencyMethod.allCases.map { .saliency($0) }
    }

    public static func named(_ name: String) throws -> AttributionMethod {
        guard let method = all.first(where: { $0.name == name }) else {
            throw CNNVizError(.invalidArgument, "unknown attribution method '\(name)'; expected one of \(all.map(\.name).joined(separator: ", "))")
        }
        return method
    }

    /// [B, H, W] maps of `input` [B, C, H, W], one target class per image; larger is more important.
    /// CAM maps come from `layer` (nil: the default layer); gradient maps are |attribution| max over channels.
    func maps(session: Session, input: Tensor, classes: [Int], layer: String?, batchSize: Int) throws -> Tensor {
        switch self {
        case .cam(let method):
            var request = CAMRequest(classes: classes)
            request.layers = layer.map { [$0] } ?? []
            request.batchSize = batchSize
            return try CAMRunner(session: session).run(method, input: input, request: request).map
        case .saliency(let method):
            var request = SaliencyRequest(classes: classes)
            request.layer = layer
            request.batchSize = batchSize
            return try SaliencyRunner(session: session).run(method, input: input, request: request).map
        }
    }
}
