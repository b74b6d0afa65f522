import Foundation

/// Reads and writes NumPy `.npy` files (format versions 1–3, little-endian, C order).
///
/// Element types: float32, float16, float64, int64, int32, int16, int8, uint8, uint16,
/// uint32, uint64 and bool. Float16 and float64 arrays load as Float32 values that keep
/// their declared type; see `ElementType`.
public enum NumpyFile {
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]

    static let descriptors: [String: ElementType] = [
        "<f4": .float32, "<f2": .float16, "<f8": .double, "<i8": .int64, "<i4": .int32,
        "<i2": .int16, "|i1": .int8, "|u1": .uint8, "<u2": .uint16, "<u4": .uint32,
        "<u8": .uint64, "|b1": .bool,
    ]

    public static func read(contentsOf url: URL) throws -> Tensor {
        InputProtection.protect([url])
        let data = try FileRead.data(contentsOf: url, what: "the .npy file")
        do { return try decode(data) } catch let error as CNNVizError {
            throw error.located(at: url.path)
        }
    }

    public static func decode(_ data: Data) throws -> Tensor {
        let bytes = [UInt8](data)
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
            throw CNNVizError(.corruptFile, "not a NumPy .npy file: expected the magic bytes \\x93NUMPY at the start")
        }
        let major = bytes[6]
        let headerLength: Int
        let headerStart: Int
        if major == 1 {
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        } else if major == 2 || major == 3 {
            guard bytes.count >= 12 else { throw CNNVizError(.corruptFile, "truncated .npy header") }
            headerLength = (0..<4).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
            headerStart = 12
        } else {
            throw CNNVizError(.corruptFile, "unsupported .npy format version \(major); expected 1, 2 or 3")
        }
        guard headerStart + headerLength <= bytes.count,
              let header = String(bytes: bytes[headerStart..<headerStart + headerLength], encoding: .utf8) else {
            throw CNNVizError(.corruptFile, "truncated .npy header: needs \(headerLength) bytes")
        }
        let descr = try field("descr", in: header)
        guard let type = descriptors[descr.trimmingCharacters(in: CharacterSet(charactersIn: "'\""))] else {
            throw CNNVizError(.unsupportedDataType,
                              "unsupported .npy dtype \(descr); expected one of \(descriptors.keys.sorted().joined(separator: ", "))")
        }
        if try field("fortran_order", in: header) == "True" {
            throw CNNVizError(.unsupportedDataType, "Fortran-ordered .npy arrays are not supported; save with C order")
        }
        let shapeText = try field("shape", in: header)
        var shape = [Int]()
        for part in shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "()")).split(separator: ",") {
            let text = part.trimmingCharacters(in: .whitespaces)
            if text.isEmpty { continue }
            guard let dim = Int(text), dim >= 0 else {
                throw CNNVizError(.corruptFile, "bad .npy shape \(shapeText): expected non-negative integers")
            }
            shape.append(dim)
        }
        let count: Int
        do { count = try Shape.checkedCount(shape) } catch let error as CNNVizError {
            throw CNNVizError(.corruptFile, "bad .npy shape: \(error.message)")
        }
        let payloadStart = headerStart + headerLength
        let needed = count * type.byteWidth
        guard bytes.count - payloadStart >= needed else {
            throw CNNVizError(.corruptFile,
                              "truncated .npy data: shape \(shape) of \(descr) needs \(needed) bytes, found \(bytes.count - payloadStart)")
        }
        return bytes.withUnsafeBytes { raw in
            RawTensorData.decode(UnsafeRawBufferPointer(rebasing: raw[payloadStart..<payloadStart + needed]),
                                 type: type, shape: shape)
        }
    }

    /// Extracts the value text of `key` from a header like `{'descr': '<f4', 'shape': (1, 3), }`.
    static func field(_ key: String, in header: String) throws -> String {
        guard let keyRange = header.range(of: "'\(key)':") ?? header.range(of: "\"\(key)\":") else {
            throw CNNVizError(.corruptFile, "the .npy header has no '\(key)' field: \(header)")
        }
        let rest = header[keyRange.upperBound...].drop { $0 == " " }
        if rest.first == "(" {
            let end = rest.firstIndex(of: ")") ?? rest.endIndex
            return String(rest[rest.startIndex...min(end, rest.index(before: rest.endIndex))])
        }
        let end = rest.firstIndex { $0 == "," || $0 == "}" } ?? rest.endIndex
        return rest[..<end].trimmingCharacters(in: .whitespaces)
    }

    /// Encodes `tensor` as a version-1 `.npy` file in its own element type.
    public static func encode(_ tensor: Tensor) -> Data {
        // STRING tensors are written as their int64 hashes (`ElementType.isText`).
        let descr = tensor.elementType.isText ? "<i8" : descriptors.first { $0.value == tensor.elementType }?.key ?? "<f4"
        let shapeText = tensor.shape.isEmpty ? "()" :
            tensor.shape.count == 1 ? "(\(tensor.shape[0]),)" : "(" + tensor.shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data(magic + [1, 0])
        let length = UInt16(header.utf8.count)
        data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
        data.append(contentsOf: Array(header.utf8))
        data.append(RawTensorData.encode(tensor))
        return data
    }

    /// Writes `tensor` atomically, so that a failed run leaves no half-written file.
    public static func write(_ tensor: Tensor, to url: URL) throws {
        try AtomicFile.write(encode(tensor), to: url)
    }
}
