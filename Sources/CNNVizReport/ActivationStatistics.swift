import CNNVizRuntime

/// Per-layer, per-channel activation statistics accumulated over a set of images.
///
/// Per channel: mean, std (population), max, and the fraction of exact zeros (after a ReLU,
/// the inactive positions). In a non-negative layer (no value below 0 on the whole set: after
/// a ReLU, a ReLU6, a max-pool of them) a channel is dead when it is never > 0; signed layers
/// (convolutions before their activation, logits) have no dead channels, as a channel that is
/// never positive there still carries information. A channel is saturated when at least 99%
/// of its values equal its maximum and that maximum is > 0 (stuck at a ReLU6 bound, say).
/// Sums in Double. Two sets' statistics merge exactly from their counts, sums, sums of
/// squares, minima and maxima (`merge`), so shards of a dataset give the whole set's figures;
/// only the order of the additions differs, by a few units in the last place of a sum.
/// Pitfall: "dead on this set" is a property of the set as much as of the network.
public struct ActivationStatistics: Sendable, Codable {
    public struct Channel: Encodable, Sendable {
        public var index: Int
        public var mean: Double
        public var std: Double
        public var min: Double
        public var max: Double
        public var zeroFraction: Double
        enum CodingKeys: String, CodingKey { case index, mean, std, min, max, zeroFraction = "zero_fraction" }
    }

    public struct Layer: Encodable, Sendable {
        public var name: String
        public var channels: [Channel]
        /// Whether no value was below 0: only then can a channel be dead.
        public var nonNegative: Bool
        /// Channels never > 0, in a non-negative layer; empty for signed layers.
        public var dead: [Int]
        public var saturated: [Int]
    }

    struct Accumulator: Sendable, Codable {
        var count = 0.0, sum = 0.0, squares = 0.0, zeros = 0.0
        var minimum = Double.infinity
        var maximum = -Double.infinity, atMaximum = 0.0
        var active = false
        var negative = false

        mutating func add(_ value: Float) {
            let v = Double(value)
            count += 1
            sum += v
            squares += v * v
            if value == 0 { zeros += 1 }
            if value > 0 { active = true }
            if value < 0 { negative = true }
            if v < minimum { minimum = v }
            if v > maximum { maximum = v; atMaximum = 1 } else if v == maximum { atMaximum += 1 }
        }

        /// The accumulator of both sets of values.
        mutating func merge(_ other: Accumulator) {
            count += other.count
            sum += other.sum
            squares += other.squares
            zeros += other.zeros
            minimum = Swift.min(minimum, other.minimum)
            if other.maximum > maximum { (maximum, atMaximum) = (other.maximum, other.atMaximum) } else if other.maximum == maximum { atMaximum += other.atMaximum }
            active = active || other.active
            negative = negative || other.negative
        }
    }

    var order = [String]()
    var accumulators = [String: [Accumulator]]()
    /// The inputs added (`countInput`), for the report.
    public private(set) var inputs = 0

    public init() {}

    /// Counts one input (an image or a tensor file) toward `inputs`.
    public mutating func countInput() { inputs += 1 }

    /// Adds another set's statistics: layers new to this one come after its own, in the
    /// other's order; a layer with another channel count is kept as it is here.
    public mutating func merge(_ other: ActivationStatistics) {
        inputs += other.inputs
        for name in other.order {
            guard let theirs = other.accumulators[name] else { continue }
            guard var mine = accumulators[name] else {
                order.append(name)
                accumulators[name] = theirs
                continue
            }
            guard mine.count == theirs.count else { continue }
            for c in mine.indices { mine[c].merge(theirs[c]) }
            accumulators[name] = mine
        }
    }

    /// Adds one batch of activations [N, C, …] of `name`.
    public mutating func add(_ name: String, _ tensor: Tensor) {
        guard tensor.isFloatingPoint, tensor.rank >= 2 else { return }
        let (batch, channels) = (tensor.shape[0], tensor.shape[1])
        let plane = tensor.count / Swift.max(batch * channels, 1)
        if accumulators[name] == nil {
            order.append(name)
            accumulators[name] = [Accumulator](repeating: Accumulator(), count: channels)
        }
        guard accumulators[name]!.count == channels else { return }
        let values = tensor.floats
        for n in 0..<batch {
            for c in 0..<channels {
                let base = (n * channels + c) * plane
                for i in base..<(base + plane) { accumulators[name]![c].add(values[i]) }
            }
        }
    }

    /// The statistics, layers in the order they were first added.
    public var layers: [Layer] {
        order.map { name in
            let channels = accumulators[name]!.enumerated().map { index, a in
                let mean = a.count > 0 ? a.sum / a.count : 0
                return Channel(index: index, mean: mean, std: Swift.max(0, a.count > 0 ? a.squares / a.count - mean * mean : 0).squareRoot(),
                               min: a.count > 0 ? a.minimum : 0, max: a.count > 0 ? a.maximum : 0, zeroFraction: a.count > 0 ? a.zeros / a.count : 0)
            }
            let accumulated = accumulators[name]!
            let nonNegative = !accumulated.contains { $0.negative }
            return Layer(name: name, channels: channels, nonNegative: nonNegative,
                         dead: nonNegative ? accumulated.indices.filter { !accumulated[$0].active } : [],
                         saturated: accumulated.indices.filter { accumulated[$0].maximum > 0 && accumulated[$0].atMaximum >= 0.99 * accumulated[$0].count })
        }
    }
}
