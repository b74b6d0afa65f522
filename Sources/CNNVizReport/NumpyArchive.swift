import CNNVizRuntime
import Foundation
import ZIPFoundation

/// `.npz` files: a ZIP archive of `.npy` members, as `numpy.savez` writes and `numpy.load` reads.
///
/// Members are stored uncompressed (savez's default), named `<key>.npy`. Pitfall: keys are
/// tensor names, which may hold `/` or `:`; NumPy would read a `/` as a directory inside the
/// archive, so those characters become `_` (the mapping is returned to the caller).
public enum NumpyArchive {
    /// The member key used for a tensor name.
    public static func key(for name: String) -> String {
        String(name.map { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." ? $0 : "_" })
    }

    /// Writes the tensors, in order, to `url` through a temporary file renamed into place.
    @discardableResult
    public static func write(_ tensors: [(name: String, tensor: Tensor)], to url: URL) throws -> [String: String] {
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        var keys = [String: String]()
        do {
            let archive = try Archive(url: temporary, accessMode: .create)
            for (name, tensor) in tensors {
                var key = key(for: name)
                while keys.values.contains(key) { key += "_" }
                keys[name] = key
                let data = NumpyFile.encode(tensor)
                try archive.addEntry(with: key + ".npy", type: .file, uncompressedSize: Int64(data.count)) { position, size in
                    data.subdata(in: Int(position)..<Int(position) + size)
                }
            }
            if FileManager.default.fileExists(atPath: url.path) { try FileManager.default.removeItem(at: url) }
            try FileManager.default.moveItem(at: temporary, to: url)
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw CNNVizError(.writeFailed, "cannot write the .npz archive", location: url.path, cause: error)
        }
        return keys
    }
}
