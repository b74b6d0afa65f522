import CNNVizRuntime

/// The similarity of an item to a reference embedding r (face and re-identification models):
/// - cosine: s = e·r / (‖e‖‖r‖), ∂s/∂e = r/(‖e‖‖r‖) − s·e/‖e‖²;
/// - dot: s = e·r, ∂s/∂e = r.
///
/// Pitfall: the cosine's gradient is undefined at e = 0; there it is taken as 0.
public struct SimilarityTarget: AttributionTarget {
    public enum Measure: String, Sendable { case cosine, dot }

    public var reference: [Float]
    public var measure: Measure
    public var tensor: String?

    public init(reference: [Float], measure: Measure = .cosine, tensor: String? = nil) {
        self.reference = reference
        self.measure = measure
        self.tensor = tensor
    }

    public var summary: String { "\(measure.rawValue) similarity to a reference of \(reference.count) values" }

    func checked(_ item: TargetItem) throws -> [Double] {
        guard item.values.count == reference.count else {
            throw TargetError.doesNotFit(target: summary, tensor: item.tensor, shape: item.tensorShape,
                                         detail: "an item has \(item.values.count) values and the reference \(reference.count)")
        }
        return item.values.map(Double.init)
    }

    public func score(_ item: TargetItem) throws -> Float {
        let e = try checked(item), r = reference.map(Double.init)
        let dot = zip(e, r).reduce(0) { $0 + $1.0 * $1.1 }
        guard measure == .cosine else { return Float(dot) }
        let norms = Self.norm(e) * Self.norm(r)
        return norms > 0 ? Float(dot / norms) : 0
    }

    public func cotangent(_ item: TargetItem) throws -> [Float] {
        let e = try checked(item), r = reference.map(Double.init)
        guard measure == .cosine else { return reference }
        let (normE, normR) = (Self.norm(e), Self.norm(r))
        guard normE > 0 && normR > 0 else { return [Float](repeating: 0, count: e.count) }
        let s = zip(e, r).reduce(0) { $0 + $1.0 * $1.1 } / (normE * normR)
        return zip(e, r).map { Float($1 / (normE * normR) - s * $0 / (normE * normE)) }
    }

    static func norm(_ v: [Double]) -> Double { v.reduce(0) { $0 + $1 * $1 }.squareRoot() }
}
