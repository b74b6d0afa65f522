import Foundation
import ONNXProto

/// Converts ONNX `TensorProto`s into tensors.
public enum ONNXTensor {
    /// Decodes a tensor from raw bytes, typed fields, or external data in `directory`.
    ///
    /// Pitfall: FLOAT16 and BOOL values in the typed fields sit in `int32_data`
    /// (FLOAT16 as bit patterns), UINT32/UINT64 in `uint64_data`.
    public static func decode(_ proto: Onnx_TensorProto, directory: URL? = nil) throws -> Tensor {
        let location = "tensor '\(proto.name)'"
        guard let type = ElementType(rawValue: Int(proto.dataType)), type.isSupported else {
            let typeName = ElementType(rawValue: Int(proto.dataType))?.description ?? "type \(proto.dataType)"
            throw CNNVizError(.unsupportedDataType,
                              "element type \(typeName) is not supported; cnn-viz supports FLOAT, FLOAT16, DOUBLE, integer and BOOL tensors",
                              location: location)
        }
        let shape = proto.dims.map { Int($0) }
        let count: Int
        do { count = try Shape.checkedCount(shape) } catch let error as CNNVizError {
            throw CNNVizError(.corruptFile, error.message, location: location)
        }
        if type.isText {
            guard proto.stringData.count == count, proto.dataLocation != .external else {
                throw CNNVizError(.corruptFile, "STRING tensor of shape \(shape) holds \(proto.stringData.count) strings", location: location)
            }
            return Tensor(shape: shape, strings: proto.stringData.map { String(decoding: $0, as: UTF8.self) })
        }
        let raw: Data?
        if proto.dataLocation == .external {
            raw = try externalBytes(proto, directory: directory, location: location)
        } else if proto.hasRawData {
            raw = proto.rawData
        } else {
            raw = nil
        }
        if let raw {
            guard raw.count == count * type.byteWidth else {
                throw CNNVizError(.corruptFile,
                                  "shape \(shape) of \(type) needs \(count * type.byteWidth) bytes of data, found \(raw.count)",
                                  location: location)
            }
            return raw.withUnsafeBytes { RawTensorData.decode($0, type: type, shape: shape) }
        }
        func checked<T>(_ values: [T]) throws -> [T] {
            guard values.count == count else {
                throw CNNVizError(.corruptFile, "shape \(shape) needs \(count) values, found \(values.count)", location: location)
            }
            return values
        }
        switch type {
        case .float32: return Tensor(shape: shape, floats: try checked(proto.floatData))
        case .double: return Tensor(shape: shape, floats: try checked(proto.doubleData).map { Float($0) }, elementType: .double)
        case .float16:
            return Tensor(shape: shape, floats: try checked(proto.int32Data).map { Float16Bits.toFloat(UInt16(truncatingIfNeeded: $0)) },
                          elementType: .float16)
        case .int64: return Tensor(shape: shape, integers: try checked(proto.int64Data))
        case .uint32, .uint64:
            return Tensor(shape: shape, integers: try checked(proto.uint64Data).map { Int64(bitPattern: $0) }, elementType: type)
        default:
            return Tensor(shape: shape, integers: try checked(proto.int32Data).map { type.wrapped(Int64($0)) }, elementType: type)
        }
    }

    static func externalBytes(_ proto: Onnx_TensorProto, directory: URL?, location: String) throws -> Data {
        let entries = Dictionary(proto.externalData.map { ($0.key, $0.value) }, uniquingKeysWith: { $1 })
        guard let file = entries["location"], !file.isEmpty else {
            throw CNNVizError(.corruptFile, "external data without a 'location' entry", location: location)
        }
        guard !file.hasPrefix("/"), !file.split(separator: "/").contains("..") else {
            throw CNNVizError(.corruptFile, "external data location '\(file)' must be a relative path beside the model",
                              location: location)
        }
        let url = (directory ?? URL(fileURLWithPath: ".")).appendingPathComponent(file)
        let data: Data
        do { data = try Data(contentsOf: url, options: .mappedIfSafe) } catch {
            throw CNNVizError(.fileNotReadable, "cannot read external data file \(url.path)", location: location, cause: error)
        }
        guard let offset = Int(entries["offset"] ?? "0"), let length = Int(entries["length"] ?? "\(data.count - max(0, Int(entries["offset"] ?? "0") ?? 0))") else {
            throw CNNVizError(.corruptFile, "external data offset or length is not an integer: \(entries)", location: location)
        }
        guard offset >= 0, length >= 0, offset <= data.count, length <= data.count - offset else {
            throw CNNVizError(.corruptFile,
                              "external data range offset \(offset), length \(length) is outside \(url.lastPathComponent) (\(data.count) bytes)",
                              location: location)
        }
        return data.subdata(in: offset..<offset + length)
    }

    /// Encodes a tensor as a `TensorProto` with raw data.
    public static func encode(_ tensor: Tensor, name: String) -> Onnx_TensorProto {
        var proto = Onnx_TensorProto()
        proto.name = name
        proto.dims = tensor.shape.map { Int64($0) }
        proto.dataType = Int32(tensor.elementType.rawValue)
        proto.rawData = RawTensorData.encode(tensor)
        return proto
    }
}
