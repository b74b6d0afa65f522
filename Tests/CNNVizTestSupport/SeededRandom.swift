import CNNVizRuntime

/// A seeded linear congruential generator of test values in [−1, 1] (steps of 0.001), so
/// that every test draws the same numbers on every machine.
public struct SeededRandom {
    public init(state: UInt64) { self.state = state }

    public var state: UInt64
    public mutating func next() -> Float {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(Int64(bitPattern: state >> 11) % 2001 - 1000) / 1000
    }
    public mutating func tensor(_ shape: [Int], scale: Float = 1, awayFromZero: Float = 0) -> Tensor {
        Tensor(shape: shape, floats: (0..<shape.reduce(1, *)).map { _ in
            let v = next() * scale
            if abs(v) >= awayFromZero { return v }
            return v < 0 ? v - awayFromZero : v + awayFromZero
        })
    }
    /// Distinct values (no ties), shuffled: for max-pool and max-reduce checks.
    public mutating func distinct(_ shape: [Int], spacing: Float = 0.05) -> Tensor {
        let count = shape.reduce(1, *)
        var values = (0..<count).map { Float($0) * spacing - Float(count) * spacing / 2 }
        for i in stride(from: count - 1, to: 0, by: -1) {
            let j = Int(UInt64(bitPattern: Int64(next() * 1000 + 1000)) % UInt64(i + 1))
            values.swapAt(i, j)
        }
        return Tensor(shape: shape, floats: values)
    }
}
