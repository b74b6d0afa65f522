/// Element types, numbered as ONNX's `TensorProto.DataType`.
///
/// cnn-viz computes in Float32. FLOAT16 and DOUBLE tensors are held as Float32 values
/// (FLOAT16 values rounded to half precision, so they stay exact) and keep their
/// declared type, so that a Cast or an output file gives back the declared type.
/// Integer and boolean types are held as Int64.
public enum ElementType: Int, Sendable, CaseIterable, CustomStringConvertible {
    case float32 = 1
    case uint8 = 2
    case int8 = 3
    case uint16 = 4
    case int16 = 5
    case int32 = 6
    case int64 = 7
    case string = 8
    case bool = 9
    case float16 = 10
    case double = 11
    case uint32 = 12
    case uint64 = 13
    case complex64 = 14
    case complex128 = 15
    case bfloat16 = 16
    case float8e4m3fn = 17
    case float8e4m3fnuz = 18
    case float8e5m2 = 19
    case float8e5m2fnuz = 20
    case uint4 = 21
    case int4 = 22
    case float4e2m1 = 23
    case float8e8m0 = 24
    case uint2 = 25
    case int2 = 26

    /// Types whose values cnn-viz holds as Float32.
    public var isFloatingPoint: Bool { self == .float32 || self == .float16 || self == .double }

    /// Types whose values cnn-viz holds as Int64.
    public var isInteger: Bool {
        switch self {
        case .uint8, .int8, .uint16, .int16, .int32, .int64, .bool, .uint32, .uint64: return true
        default: return false
        }
    }

    /// Whether the runtime can hold and compute with this type at all.
    public var isSupported: Bool { isFloatingPoint || isInteger || isText }

    /// STRING, held as a 64-bit FNV-1a hash of each string's UTF-8 bytes (Int64 storage): enough
    /// for equality and for the ops that only move elements (`Session.textOps`); any op that
    /// computes with values refuses it. Pitfall: the strings themselves are not kept.
    public var isText: Bool { self == .string }

    /// Bytes per element in ONNX raw data and in `.npy` files.
    public var byteWidth: Int {
        switch self {
        case .uint8, .int8, .bool: return 1
        case .uint16, .int16, .float16, .bfloat16: return 2
        case .float32, .int32, .uint32: return 4
        case .int64, .uint64, .double: return 8
        default: return 1
        }
    }

    public var description: String {
        switch self {
        case .float32: return "FLOAT"
        case .uint8: return "UINT8"
        case .int8: return "INT8"
        case .uint16: return "UINT16"
        case .int16: return "INT16"
        case .int32: return "INT32"
        case .int64: return "INT64"
        case .string: return "STRING"
        case .bool: return "BOOL"
        case .float16: return "FLOAT16"
        case .double: return "DOUBLE"
        case .uint32: return "UINT32"
        case .uint64: return "UINT64"
        case .complex64: return "COMPLEX64"
        case .complex128: return "COMPLEX128"
        case .bfloat16: return "BFLOAT16"
        case .float8e4m3fn: return "FLOAT8E4M3FN"
        case .float8e4m3fnuz: return "FLOAT8E4M3FNUZ"
        case .float8e5m2: return "FLOAT8E5M2"
        case .float8e5m2fnuz: return "FLOAT8E5M2FNUZ"
        case .uint4: return "UINT4"
        case .int4: return "INT4"
        case .float4e2m1: return "FLOAT4E2M1"
        case .float8e8m0: return "FLOAT8E8M0"
        case .uint2: return "UINT2"
        case .int2: return "INT2"
        }
    }

    /// The smallest and largest value of an integer type (quantisation saturates to these).
    public var integerRange: ClosedRange<Int64> {
        switch self {
        case .uint8: return 0...255
        case .int8: return -128...127
        case .uint16: return 0...65535
        case .int16: return -32768...32767
        case .int32: return Int64(Int32.min)...Int64(Int32.max)
        case .uint32: return 0...Int64(UInt32.max)
        case .bool: return 0...1
        default: return Int64.min...Int64.max
        }
    }

    /// Wraps an integer into this type's range the way a C cast does (e.g. Int64 → uint8).
    @inline(__always)
    public func wrapped(_ value: Int64) -> Int64 {
        switch self {
        case .uint8: return Int64(UInt8(truncatingIfNeeded: value))
        case .int8: return Int64(Int8(truncatingIfNeeded: value))
        case .uint16: return Int64(UInt16(truncatingIfNeeded: value))
        case .int16: return Int64(Int16(truncatingIfNeeded: value))
        case .int32: return Int64(Int32(truncatingIfNeeded: value))
        case .uint32: return Int64(UInt32(truncatingIfNeeded: value))
        case .bool: return value != 0 ? 1 : 0
        default: return value
        }
    }
}
