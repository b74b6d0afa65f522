import CNNVizRuntime
import Foundation

/// How a diff decides that a layer passes.
///
/// The default compares the error with the signal: SQNR = 20·log10(‖a‖/‖a − b‖) dB at least
/// `minimumDB` and cosine at least `minimumCosine`, whatever the layer's scale. Pitfall: a
/// fixed elementwise tolerance (atol 1e-4) fails every layer of an ImageNet-scale Caffe model
/// whose activations run to the hundreds, although each agrees to 120 dB, and a real fault is
/// lost among those false alarms; it stays as `elementwise`, numpy.allclose's test.
public enum DiffCheck: Sendable, Equatable {
    case sqnr(minimumDB: Double, minimumCosine: Double)
    /// Every element: |a − b| ≤ atol + rtol·|b|.
    case elementwise(atol: Double, rtol: Double)

    /// Two float runs: a fault shows as a fall from 100 dB or more to the tens (fp16 rounding
    /// keeps about 60 dB).
    public static let floatDefault = DiffCheck.sqnr(minimumDB: 40, minimumCosine: 0.999)
    /// A quantized run against float: int8 keeps about 20 to 40 dB a layer.
    public static let quantizedDefault = DiffCheck.sqnr(minimumDB: 15, minimumCosine: 0.98)

    /// The SQNR below which a layer's own error is too much (`nodesToExclude`): the check's
    /// floor, or the quantized default's 15 dB for an elementwise check.
    public var blameFloor: Double {
        if case .sqnr(let db, _) = self { return db }
        return 15
    }
}

/// How one layer of run A differs from the same layer of run B (DESIGN.md "Diffing").
///
/// With d = a − b over all elements: max |d| and its multi-index, mean |d|, relative L2
/// ‖d‖/‖a‖, cosine a·b/(‖a‖‖b‖), SQNR 20·log10(‖a‖/‖d‖) dB (nil when d = 0: identical), and
/// whether it passes `DiffCheck`. Polygraphy's statistics of |d| too: standard deviation,
/// median, p90, p95, p99 (numpy's linear interpolation), a 10-bin histogram over [0, max |d|],
/// and the smallest tolerances that would pass elementwise: atol = max |d| (rtol 0), rtol =
/// max |d|/|b| (atol 0; nil when some b = 0 differs). Sums in Double.
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
    public var stdAbs: Double
    public var medianAbs: Double
    public var p90Abs: Double
    public var p95Abs: Double
    public var p99Abs: Double
    /// Counts of |d| in 10 equal bins over [0, max |d|].
    public var histogram: [Int]
    public var minimumAtol: Double
    public var minimumRtol: Double?
    public var relativeL2: Double?
    public var cosine: Double
    public var sqnrDB: Double?
    /// NaN and ±inf elements in A and in B.
    public var nonFiniteA: Int
    public var nonFiniteB: Int
    public var pass: Bool

    enum CodingKeys: String, CodingKey {
        case name, matched, shape, maxAbs = "max_abs", maxIndex = "max_index", meanAbs = "mean_abs", stdAbs = "std_abs"
        case medianAbs = "median_abs", p90Abs = "p90_abs", p95Abs = "p95_abs", p99Abs = "p99_abs", histogram
        case minimumAtol = "min_atol", minimumRtol = "min_rtol", relativeL2 = "rel_l2"
        case cosine, sqnrDB = "sqnr_db", nonFiniteA = "non_finite_a", nonFiniteB = "non_finite_b", pass
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
        try container.encode(stdAbs, forKey: .stdAbs)
        try container.encode(medianAbs, forKey: .medianAbs)
        try container.encode(p90Abs, forKey: .p90Abs)
        try container.encode(p95Abs, forKey: .p95Abs)
        try container.encode(p99Abs, forKey: .p99Abs)
        try container.encode(histogram, forKey: .histogram)
        try container.encode(minimumAtol, forKey: .minimumAtol)
        try container.encode(minimumRtol, forKey: .minimumRtol)
        try container.encode(relativeL2, forKey: .relativeL2)
        try container.encode(cosine, forKey: .cosine)
        try container.encode(sqnrDB, forKey: .sqnrDB)
        try container.encode(nonFiniteA, forKey: .nonFiniteA)
        try container.encode(nonFiniteB, forKey: .nonFiniteB)
        try container.encode(pass, forKey: .pass)
    }

    /// - Parameter validate: a NaN or ±inf in either run fails the layer.
    public init(name: String, matched: String? = nil, a: Tensor, b: Tensor, check: DiffCheck, validate: Bool = false) throws {
        guard a.count == b.count else {
            throw CNNVizError(.shapeMismatch, "layer '\(name)' has shape \(a.shape) in run A and \(b.shape) in run B")
        }
        self.name = name
        self.matched = matched
        shape = a.shape
        let av = a.floats, bv = b.floats
        var (maxAbs, maxAt, sumAbs, aa, bb, ab, dd) = (0.0, 0, 0.0, 0.0, 0.0, 0.0, 0.0)
        var (withinTolerance, rtolNeeded, nonFiniteA, nonFiniteB) = (true, 0.0 as Double?, 0, 0)
        var differences = [Double](repeating: 0, count: av.count)
        for i in 0..<av.count {
            let x = Double(av[i]), y = Double(bv[i]), d = abs(x - y)
            differences[i] = d
            if !x.isFinite { nonFiniteA += 1 }
            if !y.isFinite { nonFiniteB += 1 }
            if d > maxAbs || (d.isNaN && !maxAbs.isNaN) { maxAbs = d; maxAt = i }
            sumAbs += d
            aa += x * x
            bb += y * y
            ab += x * y
            dd += d * d
            if case .elementwise(let atol, let rtol) = check, !(d <= atol + rtol * abs(y)) { withinTolerance = false }
            if d > 0 { rtolNeeded = y == 0 ? nil : rtolNeeded.map { max($0, d / abs(y)) } }
        }
        self.maxAbs = maxAbs
        var rest = maxAt
        maxIndex = a.shape.reversed().map { size -> Int in
            defer { rest /= max(size, 1) }
            return rest % max(size, 1)
        }.reversed()
        let count = Double(max(av.count, 1))
        let mean = av.isEmpty ? 0 : sumAbs / count
        meanAbs = mean
        stdAbs = av.isEmpty ? 0 : (differences.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / count).squareRoot()
        differences.sort { $0 < $1 || ($1.isNaN && !$0.isNaN) }
        let percentile = { (p: Double) in LayerDifference.percentile(differences, p) ?? 0 }
        (medianAbs, p90Abs, p95Abs, p99Abs) = (percentile(50), percentile(90), percentile(95), percentile(99))
        var bins = [Int](repeating: 0, count: 10)
        for d in differences where d.isFinite {
            bins[maxAbs > 0 ? min(9, Int(d / maxAbs * 10)) : 0] += 1
        }
        histogram = bins
        minimumAtol = maxAbs
        minimumRtol = rtolNeeded
        relativeL2 = aa > 0 ? (dd / aa).squareRoot() : (dd == 0 ? 0 : nil)
        cosine = aa > 0 && bb > 0 ? ab / (aa * bb).squareRoot() : (aa == bb ? 1 : 0)
        sqnrDB = dd > 0 ? 10 * Foundation.log10(aa / dd) : nil
        self.nonFiniteA = nonFiniteA
        self.nonFiniteB = nonFiniteB
        switch check {
        case .elementwise: pass = withinTolerance
        case .sqnr(let minimum, let minimumCosine): pass = (sqnrDB.map { $0 >= minimum } ?? (dd == 0)) && cosine >= minimumCosine
        }
        if validate && nonFiniteA + nonFiniteB > 0 { pass = false }
    }
}

extension LayerDifference {
    /// Percentile p of sorted values, numpy's linear interpolation; nil when there are none.
    static func percentile(_ sorted: [Double], _ p: Double) -> Double? {
        guard !sorted.isEmpty else { return nil }
        let position = Double(sorted.count - 1) * p / 100, low = Int(position.rounded(.down))
        let high = min(low + 1, sorted.count - 1)
        return sorted[low] + (position - Double(low)) * (sorted[high] - sorted[low])
    }
}

/// Pairs the layers of two sessions for a diff.
public enum LayerMatching {
    /// The float tensor a quantized one stands for, by onnxruntime's quantizer's names:
    /// X_quantized (QOperator), X_QuantizeLinear_Output and X_DequantizeLinear_Output (QDQ).
    public static func floatName(_ name: String) -> String {
        for suffix in ["_DequantizeLinear_Output", "_QuantizeLinear_Output", "_quantized"] where name.hasSuffix(suffix) {
            return String(name.dropLast(suffix.count))
        }
        return name
    }

    /// Tensors that stand for the same float tensor pair up: the same name, or a quantized
    /// tensor and its float original (`floatName`; the first of B's in order, a
    /// DequantizeLinear output or a dequantized integer output alike). A quantizer that folds a
    /// Relu (or Clip) into the op before it keeps the op's name for the clipped values: when
    /// B has no tensor for A's Relu output, B's tensor for the op's output pairs with the Relu's
    /// output instead, the values it stands for. The rest of A's node outputs pair, in
    /// topological order, with B's unpaired outputs of nodes of the same op type and output
    /// shape (the k-th with the k-th). Only tensors both runs spilled (`shapesA`, `shapesB`)
    /// pair. Returns (name in A, name in B), in A's order; only the graphs' nodes are read, so
    /// the weights may already be gone.
    public static func pairs(_ a: Graph, _ b: Graph, shapesA: [String: [Int]], shapesB: [String: [Int]]) -> [(String, String)] {
        var standingFor = [String: String]()
        for name in b.tensorNames where shapesB[name] != nil && standingFor[floatName(name)] == nil {
            standingFor[floatName(name)] = name
        }
        let outputsA = a.nodes.flatMap { node in node.outputs.filter { shapesA[$0] != nil }.map { (node.opType, $0) } }
        var byName = [String: String]()
        for (_, name) in outputsA { if let match = standingFor[floatName(name)] { byName[name] = match } }
        var consumers = [String: [Node]]()
        for node in a.nodes { for input in node.inputs where !input.isEmpty { consumers[input, default: []].append(node) } }
        for (_, name) in outputsA {
            guard let match = byName[name], let users = consumers[name], users.count == 1, ["Relu", "Clip"].contains(users[0].opType),
                  let clipped = users[0].outputs.first, shapesA[clipped] != nil, byName[clipped] == nil else { continue }
            byName[name] = nil
            byName[clipped] = match
        }
        let pairedB = Set(byName.values)
        var queues = [String: [String]]()
        for node in b.nodes {
            for name in node.outputs where shapesB[name] != nil && !pairedB.contains(name) {
                queues["\(node.opType) \(shapesB[name] ?? [])", default: []].append(name)
            }
        }
        var result = [(String, String)]()
        for (op, name) in outputsA {
            if let match = byName[name] {
                result.append((name, match))
            } else if var queue = queues["\(op) \(shapesA[name] ?? [])"], !queue.isEmpty {
                result.append((name, queue.removeFirst()))
                queues["\(op) \(shapesA[name] ?? [])"] = queue
            }
        }
        return result
    }
}

/// A lower floating-point precision that a diff can simulate in run A.
///
/// fp16: IEEE half (5 exponent bits, 10 fraction bits; overflows to ±inf above 65504).
/// bf16: bfloat16, Float32's 8 exponent bits with 7 fraction bits, round to nearest even
/// (0x7FFF plus the lowest kept bit added before truncating), NaN kept NaN.
public enum SimulatedPrecision: String, Sendable, CaseIterable {
    case fp16, bf16

    public func round(_ tensor: Tensor) -> Tensor {
        guard tensor.isFloatingPoint else { return tensor }
        switch self {
        case .fp16: return Tensor(shape: tensor.shape, floats: tensor.floats.map { Float(Float16($0)) }, elementType: tensor.elementType)
        case .bf16: return Tensor(shape: tensor.shape, floats: tensor.floats.map(SimulatedPrecision.bfloat16), elementType: tensor.elementType)
        }
    }

    static func bfloat16(_ x: Float) -> Float {
        guard !x.isNaN else { return x }
        let bits = x.bitPattern
        let rounded = (bits &+ 0x7FFF &+ ((bits >> 16) & 1)) & 0xFFFF_0000
        return Float(bitPattern: rounded)
    }
}

extension Graph {
    /// Whether the graph holds quantization ops (a quantized model's layers are compared with
    /// `DiffCheck.quantizedDefault`).
    public var isQuantized: Bool {
        nodes.contains { $0.opType.hasPrefix("QLinear") || ["QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear", "ConvInteger", "MatMulInteger", "QGemm"].contains($0.opType) }
    }
}
