import CNNVizRuntime
import Foundation

/// `cnn-viz diff` over a dataset: model A against model B (a quantized, fp16 or other
/// runtime's version of it) on every image, each compared as `ActivationComparison` compares
/// one, then summarised per layer.
///
/// Per layer (A's name): the median and the worst SQNR over the images, the median error the
/// layer adds alone (`LayerBlame`), and whether it passes the check on every image. For the
/// outputs: top-1 agreement, and KL(softmax(a) ‖ softmax(b)) = Σ p_a (log p_a − log p_b) in
/// Double, averaged over the images. Layers rank by their median added SQNR, and those below
/// the check's minimum are `nodesToExclude`. Pitfall: the median hides a few bad images, so the
/// pass uses the worst image, as a gate must.
///
/// An image whose comparison throws goes to `onImageError`: it rethrows to stop the run, or
/// returns to record the image as skipped (a corrupt file among good ones).
public enum DatasetComparison {
    public struct LayerSummary: Encodable, Sendable {
        public var name: String
        public var images: Int
        public var medianSQNR: Double?
        public var worstSQNR: Double?
        /// The image (its index) on which the layer's SQNR is worst; nil when identical on all.
        public var worstImage: Int?
        public var medianAddedSQNR: Double?
        public var nodes: [String]
        public var pass: Bool

        enum CodingKeys: String, CodingKey {
            case name, images, medianSQNR = "median_sqnr_db", worstSQNR = "worst_sqnr_db", worstImage = "worst_image", medianAddedSQNR = "median_added_sqnr_db", nodes, pass
        }

        public func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try container.encode(images, forKey: .images)
            try container.encode(medianSQNR, forKey: .medianSQNR)
            try container.encode(worstSQNR, forKey: .worstSQNR)
            try container.encode(worstImage, forKey: .worstImage)
            try container.encode(medianAddedSQNR, forKey: .medianAddedSQNR)
            try container.encode(nodes, forKey: .nodes)
            try container.encode(pass, forKey: .pass)
        }
    }

    /// A blamed layer on the image where it is worst, for the page's histogram and heat maps.
    public struct LayerFigure: Sendable {
        public var layer: LayerDifference
        public var image: Int
        public var a: Tensor
        public var b: Tensor
    }

    public struct Summary: Encodable, Sendable {
        /// Images compared (the skipped ones not counted).
        public var images: Int
        /// Images that `onImageError` let the run skip, by index.
        public var skipped: [Int]
        public var layers: [LayerSummary]
        /// Images whose top-1 class is the same in both models' output.
        public var top1Agreement: Int
        public var meanKLDivergence: Double
        /// The layers by median added SQNR, the lowest (most harmful) first.
        public var blame: [LayerSummary]
        public var nodesToExclude: [String]
        /// The check each image's layers passed or failed.
        public var check: DiffCheck
        /// The most blamed layers with a spatial extent, drawn (`figureCount` of `run`).
        public var figures: [LayerFigure]
        public var firstFailure: String? { layers.first { !$0.pass }?.name }

        enum CodingKeys: String, CodingKey {
            case images, skipped, layers, top1Agreement = "top1_agreement", meanKLDivergence = "mean_kl_divergence", blame, nodesToExclude = "nodes_to_exclude"
        }
    }

    /// Compares the two models on each input. `makeRequest` gives image k's request (its
    /// input for each model); the sessions are loaded once and shared by every image. The
    /// `figureCount` most blamed layers are compared once more on their worst image, to draw.
    public static func run(images: Int, modelB: URL, loadModelA: () throws -> Session, figureCount: Int = 0,
                           onImageError: (_ image: Int, _ error: Error) throws -> Void = { throw $1 },
                           makeRequest: (_ image: Int, _ sessionA: Session, _ sessionB: Session) throws -> ComparisonRequest) throws -> Summary {
        let sessionA = try loadModelA(), sessionB = try Session(contentsOf: modelB)
        func compare(_ image: Int) throws -> ComparisonResult {
            var request = try makeRequest(image, sessionA, sessionB)
            request.loadModelA = { sessionA }
            request.loadModelB = { sessionB }
            return try ActivationComparison.run(request)
        }
        var sqnr = [String: [Double?]](), added = [String: [Double?]](), passes = [String: Bool](), nodes = [String: [String]]()
        var worstImage = [String: (image: Int, sqnr: Double)]()
        var order = [String](), agreement = 0, divergence = 0.0, check: DiffCheck?, skipped = [Int]()
        let outputA = sessionA.graph.outputs[0].name
        for image in 0..<images {
            let result: ComparisonResult
            do { result = try compare(image) } catch {
                try onImageError(image, error)
                skipped.append(image)
                continue
            }
            check = result.check
            for layer in result.layers {
                if sqnr[layer.name] == nil { order.append(layer.name) }
                sqnr[layer.name, default: []].append(layer.sqnrDB)
                passes[layer.name] = (passes[layer.name] ?? true) && layer.pass
                if let value = layer.sqnrDB, value < worstImage[layer.name]?.sqnr ?? .infinity { worstImage[layer.name] = (image, value) }
            }
            for entry in result.blame {
                added[entry.layer, default: []].append(entry.addedSQNR)
                nodes[entry.layer] = entry.nodes
            }
            if let output = result.layers.last(where: { $0.name == outputA }) ?? result.layers.last, let (a, b) = try result.tensors(output) {
                let (x, y) = (a.floats, b.floats)
                if x.indices.max(by: { x[$0] < x[$1] }) == y.indices.max(by: { y[$0] < y[$1] }) { agreement += 1 }
                divergence += klDivergence(x, y)
            }
        }
        /// SQNRs with nil for identical (+∞), in order.
        func sorted(_ values: [Double?]) -> [Double] { values.map { $0 ?? .infinity }.sorted() }
        func median(_ values: [Double?]) -> Double? { LayerDifference.percentile(sorted(values), 50).flatMap { $0.isFinite ? $0 : nil } }
        guard let check else {
            throw CNNVizError(.invalidArgument, "none of the \(images) images could be compared; the first failed above")
        }
        let layers = order.map { name in
            LayerSummary(name: name, images: sqnr[name]!.count, medianSQNR: median(sqnr[name]!), worstSQNR: worstImage[name]?.sqnr,
                         worstImage: worstImage[name]?.image, medianAddedSQNR: added[name].flatMap(median), nodes: nodes[name] ?? [], pass: passes[name] ?? true)
        }
        let blame = layers.filter { added[$0.name] != nil }.sorted { ($0.medianAddedSQNR ?? .infinity) < ($1.medianAddedSQNR ?? .infinity) }
        let exclude = LayerBlame.nodesToExclude(blame.map { ($0.medianAddedSQNR, $0.nodes) }, floor: check.blameFloor)
        let compared = images - skipped.count
        return Summary(images: compared, skipped: skipped, layers: layers, top1Agreement: agreement,
                       meanKLDivergence: compared > 0 ? divergence / Double(compared) : 0, blame: blame, nodesToExclude: exclude, check: check,
                       figures: try figures(of: blame, count: figureCount, compare: compare))
    }

    /// The `count` most blamed layers that have a spatial extent, each compared again on its
    /// worst image (one comparison per distinct image).
    static func figures(of blame: [LayerSummary], count: Int, compare: (Int) throws -> ComparisonResult) throws -> [LayerFigure] {
        var results = [Int: ComparisonResult](), figures = [LayerFigure]()
        for entry in blame where figures.count < count {
            guard let image = entry.worstImage else { continue }
            if results[image] == nil { results[image] = try compare(image) }
            guard let layer = results[image]!.layers.first(where: { $0.name == entry.name }), DiffPage.hasSpatialExtent(layer),
                  let (a, b) = try results[image]!.tensors(layer) else { continue }
            figures.append(LayerFigure(layer: layer, image: image, a: a, b: b))
        }
        return figures
    }

    /// KL(softmax(a) ‖ softmax(b)) in Double.
    static func klDivergence(_ a: [Float], _ b: [Float]) -> Double {
        func logSoftmax(_ v: [Float]) -> [Double] {
            let m = Double(v.max() ?? 0)
            let total = v.reduce(0.0) { $0 + Foundation.exp(Double($1) - m) }
            return v.map { Double($0) - m - Foundation.log(total) }
        }
        let (la, lb) = (logSoftmax(a), logSoftmax(b))
        return zip(la, lb).reduce(0.0) { $0 + Foundation.exp($1.0) * ($1.0 - $1.1) }
    }
}
