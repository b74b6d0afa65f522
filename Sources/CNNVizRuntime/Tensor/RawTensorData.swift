/// Little-endian packed element bytes, as ONNX `raw_data` and `.npy` payloads store them.
public enum RawTensorData {
    /// Decodes `count(shape)` elements of `type`; the buffer must hold exactly that many bytes.
    public static func decode(_ raw: UnsafeRawBufferPointer, type: ElementType, shape: [Int]) -> Tensor {
        let count = shape.reduce(1, *)
        precondition(raw.count >= count * type.byteWidth)
        @inline(__always) func load<T>(_: T.Type, _ i: Int) -> T { raw.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.stride, as: T.self) }
        switch type {
        case .float32:
            return Tensor(shape: shape, floats: (0..<count).map { Float(bitPattern: UInt32(littleEndian: load(UInt32.self, $0))) })
        case .float16:
            return Tensor(shape: shape, floats: (0..<count).map { Float16Bits.toFloat(UInt16(littleEndian: load(UInt16.self, $0))) },
                          elementType: .float16)
        case .double:
            return Tensor(shape: shape, floats: (0..<count).map { Float(Double(bitPattern: UInt64(littleEndian: load(UInt64.self, $0)))) },
                          elementType: .double)
        case .int64: return Tensor(shape: shape, integers: (0..<count).map { Int64(littleEndian: load(Int64.self, $0)) })
        case .uint64: return Tensor(shape: shape, integers: (0..<count).map { Int64(bitPattern: UInt64(littleEndian: load(UInt64.self, $0))) }, elementType: .uint64)
        case .int32: return Tensor(shape: shape, integers: (0..<count).map { Int64(Int32(littleEndian: load(Int32.self, $0))) }, elementType: .int32)
        case .uint32: return Tensor(shape: shape, integers: (0..<count).map { Int64(UInt32(littleEndian: load(UInt32.self, $0))) }, elementType: .uint32)
        case .int16: return Tensor(shape: shape, integers: (0..<count).map { Int64(Int16(littleEndian: load(Int16.self, $0))) }, elementType: .int16)
        case .uint16: return Tensor(shape: shape, integers: (0..<count).map { Int64(UInt16(littleEndian: load(UInt16.self, $0))) }, elementType: .uint16)
        case .int8: return Tensor(shape: shape, integers: (0..<count).map { Int64(Int8(bitPattern: raw[$0])) }, elementType: .int8)
        case .uint8: return Tensor(shape: shape, integers: (0..<count).map { Int64(raw[$0]) }, elementType: .uint8)
        case .bool: return Tensor(shape: shape, integers: (0..<count).map { raw[$0] != 0 ? 1 : 0 }, elementType: .bool)
        default: preconditionFailure("RawTensorData.decode called with unsupported type \(type)")
        }
    }

    /// Encodes a tensor's values in its own element type.
    public static func encode(_ tensor: Tensor) -> Data {
        var bytes = [UInt8]()
        bytes.reserveCapacity(tensor.count * tensor.elementType.byteWidth)
        func append<T: FixedWidthInteger>(_ value: T) {
            withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
        }
        switch tensor.elementType {
        case .float32: tensor.floats.forEach { append($0.bitPattern) }
        case .float16: tensor.floats.forEach { append(Float16Bits.fromFloat($0)) }
        case .double: tensor.floats.forEach { append(Double($0).bitPattern) }
        case .int64, .uint64, .string: tensor.integers.forEach { append($0) }  // STRING: its hashes
        case .int32, .uint32: tensor.integers.forEach { append(UInt32(truncatingIfNeeded: $0)) }
        case .int16, .uint16: tensor.integers.forEach { append(UInt16(truncatingIfNeeded: $0)) }
        case .int8, .uint8, .bool: tensor.integers.forEach { append(UInt8(truncatingIfNeeded: $0)) }
        default: preconditionFailure("RawTensorData.encode called with unsupported type \(tensor.elementType)")
        }
        return Data(bytes)
    }
}

import Foundation
