import CNNVizRuntime
import Foundation

/// Summary statistics of one activation tensor [N, C, …], in Double.
///
/// A channel is "dead" when it is never positive for any image and position (a ReLU that
/// never fires on this input). Pitfall: with one image that is a property of the input as much
/// as of the network; `cnn-viz stats` over a directory gives the population view.
public struct LayerStatistics: Codable, Sendable {
    public var name: String
    public var shape: [Int]
    public var mean: Double
    public var standardDeviation: Double
    public var minimum: Double
    public var maximum: Double
    /// Fraction of elements exactly 0.
    public var zeroFraction: Double
    /// Channels whose values are all ≤ 0.
    public var deadChannels: [Int]
    /// Mean activation per channel.
    public var channelMeans: [Double]

    public init(name: String, tensor: Tensor) {
        self.name = name
        shape = tensor.shape
        let values = tensor.floats
        let count = Double(max(values.count, 1))
        var sum = 0.0, squares = 0.0, zeros = 0
        var low = Double.infinity, high = -Double.infinity
        for v in values {
            let d = Double(v)
            sum += d
            squares += d * d
            low = Swift.min(low, d)
            high = Swift.max(high, d)
            if v == 0 { zeros += 1 }
        }
        mean = sum / count
        standardDeviation = Swift.max(0, squares / count - mean * mean).squareRoot()
        minimum = values.isEmpty ? 0 : low
        maximum = values.isEmpty ? 0 : high
        zeroFraction = Double(zeros) / count
        let channels = tensor.rank >= 2 ? tensor.shape[1] : 1
        let batch = tensor.rank >= 1 ? tensor.shape[0] : 1
        let plane = values.count / Swift.max(batch * channels, 1)
        var means = [Double](repeating: 0, count: channels), alive = [Bool](repeating: false, count: channels)
        for n in 0..<batch {
            for c in 0..<channels {
                let base = (n * channels + c) * plane
                for i in base..<base + plane {
                    means[c] += Double(values[i])
                    if values[i] > 0 { alive[c] = true }
                }
            }
        }
        channelMeans = means.map { $0 / Double(Swift.max(batch * plane, 1)) }
        deadChannels = (0..<channels).filter { !alive[$0] }
    }
}

extension LayerStatistics {
    /// The HTML table of `activations` and `report`: one row per layer.
    static func table(_ layers: [LayerStatistics]) -> String {
        HTMLDocument.table(
            header: ["layer", "shape", "mean", "std", "min", "max", "zeros", "dead channels"],
            rows: layers.map { s in
                [s.name, "\(s.shape)", String(format: "%.4g", s.mean), String(format: "%.4g", s.standardDeviation),
                 String(format: "%.4g", s.minimum), String(format: "%.4g", s.maximum), String(format: "%.1f%%", 100 * s.zeroFraction),
                 "\(s.deadChannels.count)"]
            })
    }
}
