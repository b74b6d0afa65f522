import CNNVizRuntime
import Foundation

/// How one layer of run A differs from the same layer of run B (DESIGN.md "Diffing").
///
/// With d = a − b over all elements: max |d| and its multi-index, mean |d|, relative L2
/// ‖d‖/‖a‖, cosine a·b/(‖a‖‖b‖), SQNR 20·log10(‖a‖/‖d‖) dB (nil when d = 0: identical), and
/// pass when every |d| ≤ atol + rtol·|b|. Sums in Double.
/// Pitfall: relative L2 and SQNR are relative to A, so a layer that is all zero in A reports
/// an infinite relative L2 (returned as nil).
public struct LayerDifference: Encodable, Sendable {
    public var name: String
    /// The name in run B when the layers were matched by position rather than by name.
    public var matched: String?
    public var shape: [Int]
    public var maxAbs: Double
    public var maxIndex: [Int]
    public var meanAbs: Double
    public var relativeL2: Double?
    public var cosine: Double
    public var sqnrDB: Double?
    public var pass: Bool

    enum CodingKeys: String, CodingKey {
        case name, matched, shape, maxAbs = "max_abs", maxIndex = "max_index", meanAbs = "mean_abs", relativeL2 = "rel_l2"
        case cosine, sqnrDB = "sqnr_db", pass
    }

    /// Unknown values (identical layers' SQNR, an all-zero A's relative L2) are written as null.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encodeIfPresent(matched, forKey: .matched)
        try container.encode(shape, forKey: .shape)
        try container.encode(maxAbs, forKey: .maxAbs)
        try container.encode(maxIndex, forKey: .maxIndex)
        try container.encode(meanAbs, forKey: .meanAbs)
        try container.encode(relativeL2, forKey: .relativeL2)
        try container.encode(cosine, forKey: .cosine)
        try container.encode(sqnrDB, forKey: .sqnrDB)
        try container.encode(pass, forKey: .pass)
    }

    public init(name: String, matched: String? = nil, a: Tensor, b: Tensor, atol: Double, rtol: Double) throws {
        guard a.count == b.count else {
            throw CNNVizError(.shapeMismatch, "layer '\(name)' has shape \(a.shape) in run A and \(b.shape) in run B")
        }
        self.name = name
        self.matched = matched
        shape = a.shape
        let av = a.floats, bv = b.floats
        var (maxAbs, maxAt, sumAbs, aa, bb, ab, dd) = (0.0, 0, 0.0, 0.0, 0.0, 0.0, 0.0)
        var pass = true
        for i in 0..<av.count {
            let x = Double(av[i]), y = Double(bv[i]), d = abs(x - y)
            if d > maxAbs || (d.isNaN && !maxAbs.isNaN) { maxAbs = d; maxAt = i }
            sumAbs += d
            aa += x * x
            bb += y * y
            ab += x * y
            dd += d * d
            if !(d <= atol + rtol * abs(y)) { pass = false }
        }
        self.maxAbs = maxAbs
        var rest = maxAt
        maxIndex = a.shape.reversed().map { size -> Int in
            defer { rest /= max(size, 1) }
            return rest % max(size, 1)
        }.reversed()
        meanAbs = av.isEmpty ? 0 : sumAbs / Double(av.count)
        relativeL2 = aa > 0 ? (dd / aa).squareRoot() : (dd == 0 ? 0 : nil)
        cosine = aa > 0 && bb > 0 ? ab / (aa * bb).squareRoot() : (aa == bb ? 1 : 0)
        sqnrDB = dd > 0 ? 10 * Foundation.log10(aa / dd) : nil
        self.pass = pass
    }
}

/// Pairs the layers of two sessions for a diff.
public enum LayerMatching {
    /// Tensor names present in both graphs pair up; the rest of A's node outputs pair, in
    /// topological order, with B's unpaired outputs of nodes of the same op type and output
    /// shape (the k-th with the k-th). Returns (name in A, name in B), in A's order. Only the
    /// graphs' nodes are read, so the weights may already be gone.
    public static func pairs(_ a: Graph, _ b: Graph, shapesA: [String: [Int]], shapesB: [String: [Int]]) -> [(String, String)] {
        let namesB = Set(b.tensorNames)
        let outputsA = a.nodes.flatMap { node in node.outputs.filter { !$0.isEmpty }.map { (node.opType, $0) } }
        let outputsB = b.nodes.flatMap { node in node.outputs.filter { !$0.isEmpty }.map { (node.opType, $0) } }
        let pairedB = Set(outputsA.map(\.1).filter { namesB.contains($0) })
        var queues = [String: [String]]()
        for (op, name) in outputsB where !pairedB.contains(name) {
            queues["\(op) \(shapesB[name] ?? [])", default: []].append(name)
        }
        var result = [(String, String)]()
        for (op, name) in outputsA {
            if namesB.contains(name) {
                result.append((name, name))
            } else if var queue = queues["\(op) \(shapesA[name] ?? [])"], !queue.isEmpty {
                result.append((name, queue.removeFirst()))
                queues["\(op) \(shapesA[name] ?? [])"] = queue
            }
        }
        return result
    }
}

extension Tensor {
    /// The values rounded to IEEE half precision and back (what a fp16 runtime stores).
    public func roundedToHalf() -> Tensor {
        guard isFloatingPoint else { return self }
        return Tensor(shape: shape, floats: floats.map { Float(Float16($0)) }, elementType: elementType)
    }
}
