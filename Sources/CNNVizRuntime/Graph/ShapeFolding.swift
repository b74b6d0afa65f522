import Foundation

/// Shape subgraphs of models with dynamic input dims, folded per input shape.
///
/// At load time, shape subgraphs fold to constants only when the declared input shape is
/// static. With dynamic dims, the nodes that depend on the input's *shape* alone (Shape, Size,
/// and whatever computes from them and constants: Gather, Concat, Range, Reshape's target…)
/// would run on every call. Here they run once per input shape: the first run at a shape
/// records every tensor's shape, the shape-only nodes are then evaluated from those shapes and
/// cached, and later runs at that shape take their values as given, skipping the nodes.
/// Pitfall: a node is shape-only by structure, so If and anything reading a value is excluded;
/// a partial first run folds only the Shape nodes whose input it computed.
final class ShapeFoldingCache: @unchecked Sendable {
    private var values = [[[Int]]: [String: Tensor]]()
    private let lock = NSLock()
    /// Input shapes kept at once; a model fed many sizes starts over rather than growing.
    static let capacity = 16

    func values(for key: [[Int]]) -> [String: Tensor]? {
        lock.lock()
        defer { lock.unlock() }
        return values[key]
    }

    func store(_ folded: [String: Tensor], for key: [[Int]]) {
        lock.lock()
        defer { lock.unlock() }
        if values.count >= Self.capacity { values.removeAll() }
        values[key] = folded
    }
}

extension Session {
    /// Node indices, in order, whose outputs follow from input shapes and constants alone.
    static func shapeOnlyNodes(_ graph: Graph) -> [Int] {
        var shapeOnly = Set<String>(), result = [Int]()
        for (index, node) in graph.nodes.enumerated() {
            let inputs = node.inputs.filter { !$0.isEmpty }
            let readsShapeOnly = node.opType == "Shape" || node.opType == "Size"
            let derived = node.opType != "If" && !inputs.isEmpty && inputs.contains { shapeOnly.contains($0) }
                && inputs.allSatisfy { graph.initializers[$0] != nil || shapeOnly.contains($0) }
            if readsShapeOnly || derived {
                result.append(index)
                shapeOnly.formUnion(node.outputs.filter { !$0.isEmpty })
            }
        }
        return result
    }

    /// Runs the graph (see `executeNodes`), taking the shape-only values for these input shapes
    /// from the cache, or folding them after this run when they are not there yet.
    func executeFoldingShapes(_ feeds: [String: Tensor], keeping kept: Set<String>,
                              hooks: [String: ActivationHook], given: [String: Tensor] = [:], keepingEverything: Bool = false,
                              shapes: UnsafeMutablePointer<[String: [Int]]>? = nil) throws -> [String: Tensor] {
        guard !shapeOnlyNodes.isEmpty else {
            return try executeNodes(feeds, keeping: kept, hooks: hooks, given: given, keepingEverything: keepingEverything, shapes: shapes)
        }
        let key = graph.inputs.map { feeds[$0.name]?.shape ?? [] }
        if let cached = shapeFolding.values(for: key) {
            var merged = given
            for (name, tensor) in cached where merged[name] == nil && hooks[name] == nil { merged[name] = tensor }
            return try executeNodes(feeds, keeping: kept, hooks: hooks, given: merged, keepingEverything: keepingEverything, shapes: shapes)
        }
        var recorded = [String: [Int]]()
        let values = try executeNodes(feeds, keeping: kept, hooks: hooks, given: given, keepingEverything: keepingEverything, shapes: &recorded)
        shapes?.pointee.merge(recorded) { _, new in new }
        shapeFolding.store(foldShapeOnlyNodes(recordedShapes: recorded), for: key)
        return values
    }

    /// The shape-only nodes' values from the shapes a run recorded; nodes whose inputs are not
    /// known (a partial run) are left out, and so are their dependents.
    func foldShapeOnlyNodes(recordedShapes shapes: [String: [Int]]) -> [String: Tensor] {
        var folded = [String: Tensor]()
        for index in shapeOnlyNodes {
            let node = graph.nodes[index]
            var outputs: [Tensor]?
            if node.opType == "Shape" || node.opType == "Size" {
                guard let shape = shapes[node.inputs[0]] ?? graph.initializers[node.inputs[0]]?.shape else { continue }
                if let shapeOf = operators[index] as? ShapeOf {
                    outputs = [Tensor.int64Vector(ShapeOf.slice(shape, start: shapeOf.start, end: shapeOf.end))]
                } else {
                    outputs = [Tensor(shape: [], integers: [Int64(shape.reduce(1, *))])]
                }
            } else {
                let inputs = node.inputs.map { $0.isEmpty ? nil : folded[$0] ?? graph.initializers[$0] }
                guard zip(node.inputs, inputs).allSatisfy({ $0.0.isEmpty || $0.1 != nil }) else { continue }
                outputs = try? operators[index].forward(inputs)
            }
            for (name, tensor) in zip(node.outputs, outputs ?? []) where !name.isEmpty { folded[name] = tensor }
        }
        return folded
    }
}
