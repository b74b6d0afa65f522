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
public enum DatasetComparison {
    public struct LayerSummary: Encodable, Sendable {
        public var name: String
        public var images: Int
        public var medianSQNR: Double?
        public var worstSQNR: Double?
        public var medianAddedSQNR: Double?
        public var nodes: [String]
        public var pass: Bool

        enum CodingKeys: String, CodingKey {
            case name, images, medianSQNR = "median_sqnr_db", worstSQNR = "worst_sqnr_db", medianAddedSQNR = "median_added_sqnr_db", nodes, pass
        }

        public func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try container.encode(images, forKey: .images)
            try container.encode(medianSQNR, forKey: .medianSQNR)
            try container.encode(worstSQNR, forKey: .worstSQNR)
            try container.encode(medianAddedSQNR, forKey: .medianAddedSQNR)
            try container.encode(nodes, forKey: .nodes)
            try container.encode(pass, forKey: .pass)
        }
    }

    public struct Summary: Encodable, Sendable {
        public var images: Int
        public var layers: [LayerSummary]
        /// Images whose top-1 class is the same in both models' output.
        public var top1Agreement: Int
        public var meanKLDivergence: Double
        /// The layers by median added SQNR, the lowest (most harmful) first.
        public var blame: [LayerSummary]
        public var nodesToExclude: [String]
        public var firstFailure: String? { layers.first { !$0.pass }?.name }

        enum CodingKeys: String, CodingKey {
            case images, layers, top1Agreement = "top1_agreement", meanKLDivergence = "mean_kl_divergence", blame, nodesToExclude = "nodes_to_exclude"
        }
    }

    /// Compares the two models on each input. `makeRequest` gives image k's request (its
    /// input for each model); the sessions are loaded once and shared by every image.
    public static func run(images: Int, modelB: URL, loadModelA: () throws -> Session,
                           makeRequest: (_ image: Int, _ sessionA: Session, _ sessionB: Session) throws -> ComparisonRequest) throws -> Summary {
        let sessionA = try loadModelA(), sessionB = try Session(contentsOf: modelB)
        var sqnr = [String: [Double?]](), added = [String: [Double?]](), passes = [String: Bool](), nodes = [String: [String]]()
        var order = [String](), agreement = 0, divergence = 0.0, check: DiffCheck?
        let outputA = sessionA.graph.outputs[0].name
        for image in 0..<images {
            var request = try makeRequest(image, sessionA, sessionB)
            request.loadModelA = { sessionA }
            request.loadModelB = { sessionB }
            let result = try ActivationComparison.run(request)
            check = result.check
            for layer in result.layers {
                if sqnr[layer.name] == nil { order.append(layer.name) }
                sqnr[layer.name, default: []].append(layer.sqnrDB)
                passes[layer.name] = (passes[layer.name] ?? true) && layer.pass
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
        let layers = order.map { name in
            LayerSummary(name: name, images: sqnr[name]!.count, medianSQNR: median(sqnr[name]!), worstSQNR: sorted(sqnr[name]!).first.flatMap { $0.isFinite ? $0 : nil },
                         medianAddedSQNR: added[name].flatMap(median), nodes: nodes[name] ?? [], pass: passes[name] ?? true)
        }
        let blame = layers.filter { added[$0.name] != nil }.sorted { ($0.medianAddedSQNR ?? .infinity) < ($1.medianAddedSQNR ?? .infinity) }
        let exclude = LayerBlame.nodesToExclude(blame.map { ($0.medianAddedSQNR, $0.nodes) }, floor: (check ?? .quantizedDefault).blameFloor)
        return Summary(images: images, layers: layers, top1Agreement: agreement, meanKLDivergence: images > 0 ? divergence / Double(images) : 0,
                       blame: blame, nodesToExclude: exclude)
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
