/// Where a tensor's values live: Float32 for floating-point types, Int64 for integer
/// and boolean types (see `ElementType`).
public enum TensorStorage: Sendable {
    case float([Float])
    case integer([Int64])

    public var count: Int {
        switch self {
        case .float(let values): return values.count
        case .integer(let values): return values.count
        }
    }
}

/// An n-dimensional, row-major, contiguous array. Images and activations are NCHW.
///
/// A value type: copies share storage until one is written (copy-on-write).
public struct Tensor: Sendable, CustomStringConvertible {
    public private(set) var shape: [Int]
    public private(set) var elementType: ElementType
    public private(set) var storage: TensorStorage

    /// A Float32 tensor. `values.count` must equal the product of `shape`.
    public init(shape: [Int], floats values: [Float], elementType: ElementType = .float32) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        precondition(values.count == shape.reduce(1, *), "\(values.count) values for shape \(shape)")
        precondition(elementType.isFloatingPoint)
        self.shape = shape
        self.elementType = elementType
        self.storage = .float(values)
    }

    /// An integer or boolean tensor, held as Int64 (or STRING hashes, see `ElementType.isText`).
    public init(shape: [Int], integers values: [Int64], elementType: ElementType = .int64) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        precondition(values.count == shape.reduce(1, *), "\(values.count) values for shape \(shape)")
        precondition(elementType.isInteger || elementType.isText)
        self.shape = shape
        self.elementType = elementType
        self.storage = .integer(values)
    }

    init(shape: [Int], storage: TensorStorage, elementType: ElementType) {
        precondition(storage.count == shape.reduce(1, *), "\(storage.count) values for shape \(shape)")
        self.shape = shape
        self.storage = storage
        self.elementType = elementType
    }

    public static func zeros(_ shape: [Int]) -> Tensor {
        Tensor(shape: shape, floats: [Float](repeating: 0, count: shape.reduce(1, *)))
    }

    public static func scalar(_ value: Float) -> Tensor { Tensor(shape: [], floats: [value]) }

    /// A STRING tensor, each string held as its 64-bit FNV-1a hash (`ElementType.isText`).
    public init(shape: [Int], strings: [String]) {
        self.init(shape: shape, integers: strings.map(Tensor.textHash), elementType: .string)
    }

    /// FNV-1a over the UTF-8 bytes, as a signed 64-bit value.
    static func textHash(_ text: String) -> Int64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return Int64(bitPattern: hash)
    }

    /// A 1-D int64 tensor, as shape ops produce and consume.
    public static func int64Vector(_ values: [Int]) -> Tensor {
        Tensor(shape: [values.count], integers: values.map(Int64.init))
    }

    public var rank: Int { shape.count }
    public var count: Int { storage.count }
    public var isFloatingPoint: Bool { elementType.isFloatingPoint }

    /// The values as Float32; integer tensors are converted.
    public var floats: [Float] {
        switch storage {
        case .float(let values): return values
        case .integer(let values): return values.map { Float($0) }
        }
    }

    /// The values as Int64; floating-point tensors are truncated toward zero (saturating, NaN → 0).
    public var integers: [Int64] {
        switch storage {
        case .integer(let values): return values
        case .float(let values): return values.map(Shape.saturatingInteger)
        }
    }

    /// The same values under another shape with the same element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        precondition(newShape.reduce(1, *) == count, "cannot reshape \(shape) to \(newShape)")
        var copy = self
        copy.shape = newShape
        return copy
    }

    /// The same values, labelled with another element type of the same storage kind.
    public func relabelled(as type: ElementType) -> Tensor {
        var copy = self
        copy.elementType = type
        return copy
    }

    public var description: String { "Tensor<\(elementType)>\(shape)" }
}

extension Tensor {
    /// Calls `body` with the Float32 values; the tensor must hold floats.
    @inline(__always)
    public func withFloats<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        guard case .float(let values) = storage else { preconditionFailure("\(self) holds integers") }
        return try values.withUnsafeBufferPointer(body)
    }

    /// A Float32 tensor whose values `body` writes into uninitialised memory; every element must be written.
    @inline(__always)
    public static func filled(shape: [Int], elementType: ElementType = .float32,
                              _ body: (UnsafeMutableBufferPointer<Float>) throws -> Void) rethrows -> Tensor {
        let count = shape.reduce(1, *)
        let values = try [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            try body(buffer)
            initialized = count
        }
        return Tensor(shape: shape, floats: values, elementType: elementType)
    }
}

extension Tensor {
    /// y = min(max(y, low), high) in place; no copy when the storage is not shared.
    mutating func clampInPlace(low: Float, high: Float) {
        guard case .float(var values) = storage else { return }
        storage = .float([])  // drop the second reference so that `values` is uniquely owned
        values.withUnsafeMutableBufferPointer { buffer in
            Parallel.forChunks(buffer.count, minimumPerWorker: 32768) { range in
                for i in range { buffer[i] = Swift.min(Swift.max(buffer[i], low), high) }
            }
        }
        storage = .float(values)
    }
}
