import CNNVizRuntime
import Foundation

/// The error each layer of model B adds by itself, apart from what it inherits: B's layer run
/// on A's values of its inputs (torch.ao.ns's shadow mode, Polygraphy's layer-wise
/// comparison), compared with A's output of the layer.
///
/// For a compared layer (A's tensor t_A, B's tensor t_B), the layer is every node of B between
/// t_B and the nearest tensors upstream that stand for a tensor of A (`frontier`): one fused
/// QLinearConv, or the five nodes of a dynamically quantized conv. Those inputs are given A's
/// values, quantized with B's own scale and zero point where B holds integers
/// (`TensorQuantization`), and only the layer's nodes run. added = SQNR(t_A, shadow t_B):
/// low when the layer itself loses the signal. What it inherits shows as the gap between
/// that and the total SQNR of the whole runs, reported beside it. Pitfall: B's tensors that only B computes from scratch (DynamicQuantizeLinear's
/// scale) are recomputed from A's values too, as B would on a perfect input.
public struct LayerBlame: Encodable, Sendable {
    /// A's tensor name, as in `LayerDifference`.
    public var layer: String
    /// The nodes of model A that make the layer (the op, and a Relu or Clip a quantizer folds
    /// into it): the names onnxruntime's quantizer takes in `nodes_to_exclude`.
    public var nodes: [String]
    /// SQNR of B's layer alone on A's inputs against A's output, dB (nil: identical).
    public var addedSQNR: Double?
    /// SQNR of B's run against A's at this layer, everything upstream included.
    public var totalSQNR: Double?

    enum CodingKeys: String, CodingKey { case layer, nodes, addedSQNR = "added_sqnr_db", totalSQNR = "total_sqnr_db" }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(layer, forKey: .layer)
        try container.encode(nodes, forKey: .nodes)
        try container.encode(addedSQNR, forKey: .addedSQNR)
        try container.encode(totalSQNR, forKey: .totalSQNR)
    }

    /// The nodes of the layers whose added SQNR falls below `floor`, in the layers' order,
    /// each once: what to keep in float (`nodes_to_exclude`).
    static func nodesToExclude(_ layers: [(added: Double?, nodes: [String])], floor: Double) -> [String] {
        var seen = Set<String>()
        return layers.filter { ($0.added ?? .infinity) < floor }.flatMap(\.nodes).filter { seen.insert($0).inserted }
    }

    /// Shadows every compared layer of B that has a frontier, most added error first (lowest
    /// added SQNR; an identical layer last).
    /// - Parameters:
    ///   - pairs: (A's name, B's name) of the compared layers.
    ///   - spilledB: B's tensors with real values (floats, and integers it can dequantize).
    ///   - readA: A's tensors by name (A's input under its graph input's name).
    ///   - totals: each layer's SQNR of the whole runs.
    static func rank(pairs: [(String, String)], graphA: Graph, sessionB: Session, inputB: Tensor, spilledB: Set<String>,
                     readA: (String) throws -> Tensor?, totals: [String: Double?]) throws -> [LayerBlame] {
        let graphB = sessionB.graph
        let quantized = graphB.quantizedTensors()
        let producersB = graphB.producers
        var standsFor = [String: String]()
        for (a, b) in pairs { standsFor[b] = a }
        let inputsB = Set(graphB.inputs.map(\.name))
        for input in graphA.inputs where inputsB.contains(input.name) { standsFor[input.name] = input.name }
        /// The tensors of B upstream of `tensor` where the walk up B's graph first meets one
        /// that stands for a tensor of A (a compared layer, or the input).
        func frontier(_ tensor: String) -> Set<String> {
            var found = Set<String>(), stack = [tensor], seen = Set<String>()
            while let name = stack.popLast() {
                guard let index = producersB[name] else { continue }
                for input in graphB.nodes[index].inputs where !input.isEmpty && graphB.initializers[input] == nil && seen.insert(input).inserted {
                    if standsFor[input] != nil && (spilledB.contains(input) || inputsB.contains(input)) {
                        found.insert(input)
                    } else {
                        stack.append(input)
                    }
                }
            }
            return found
        }
        var producersA = [String: Node]()
        for node in graphA.nodes { for output in node.outputs where !output.isEmpty { producersA[output] = node } }
        var result = [LayerBlame]()
        let inputName = sessionB.graph.inputs[0].name
        for (nameA, nameB) in pairs {
            let inputs = frontier(nameB)
            guard !inputs.isEmpty, let reference = try readA(nameA) else { continue }
            var given = [String: Tensor]()
            for input in inputs {
                guard let value = try readA(standsFor[input]!) else { given = [:]; break }
                given[input] = try quantized[input].map { try $0.quantize(value) } ?? value
            }
            guard !given.isEmpty else { continue }
            var shadow = try sessionB.run([inputName: inputB], outputs: [nameB], given: given)[nameB]!
            if !shadow.isFloatingPoint, let q = quantized[nameB] { shadow = try q.dequantize(shadow) }
            guard shadow.isFloatingPoint, shadow.count == reference.count else { continue }
            let added = try LayerDifference(name: nameA, a: reference, b: shadow, check: .floatDefault)
            var nodes = producersA[nameA].map { [$0] } ?? []
            if let node = nodes.first, ["Relu", "Clip"].contains(node.opType), let before = producersA[node.inputs[0]] { nodes.insert(before, at: 0) }
            result.append(LayerBlame(layer: nameA, nodes: nodes.map { $0.name.isEmpty ? $0.outputs[0] : $0.name },
                                     addedSQNR: added.sqnrDB, totalSQNR: totals[nameA] ?? nil))
        }
        return result.sorted { ($0.addedSQNR ?? .infinity) < ($1.addedSQNR ?? .infinity) }
    }
}
