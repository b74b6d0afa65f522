import CNNVizRuntime

/// Runs a shapes model over scenes in batches.
public struct ShapesClassifier {
    public let session: Session
    public var batchSize = 64

    public init(model: Model) throws {
        self.init(session: try Session(model: model))
    }

    public init(session: Session) {
        self.session = session
        session.acceptsAnyBatch = true
    }

    /// The logits, one row of 6 per scene.
    public func logits(_ scenes: [Scene]) throws -> [[Float]] {
        var rows = [[Float]]()
        for start in stride(from: 0, to: scenes.count, by: batchSize) {
            let slice = Array(scenes[start..<min(start + batchSize, scenes.count)])
            let input = try ShapesModel.batch(slice.map(\.image))
            let output = try session.run([session.graph.inputs[0].name: input], outputs: [session.graph.outputs[0].name])
            let values = output[session.graph.outputs[0].name]!.floats
            let classes = values.count / slice.count
            for row in 0..<slice.count { rows.append(Array(values[(row * classes)..<((row + 1) * classes)])) }
        }
        return rows
    }

    /// Top-1 accuracy on single-object scenes: the largest logit is the object's class.
    public func accuracy(on scenes: [Scene]) throws -> Double {
        guard !scenes.isEmpty else { return .nan }
        let rows = try logits(scenes)
        let hits = zip(rows, scenes).filter { row, scene in
            row.indices.max(by: { row[$0] < row[$1] }) == scene.objects[0].shape.rawValue
        }.count
        return Double(hits) / Double(scenes.count)
    }
}
