import CNNVizRuntime
import Foundation
import ZIPFoundation

/// `.npz` files: a ZIP archive of `.npy` members, as `numpy.savez` writes and `numpy.load` reads.
///
/// Members are stored uncompressed (savez's default), named `<key>.npy`, and the key is the
/// tensor's own name: `np.load(f)["fire9/concat_1"]` works, as NumPy looks members up by
/// their full name. Pitfall: unpacked with `unzip`, a `/` in a name becomes a folder; so a
/// name that would escape the folder it is unpacked into (absolute, `..`, a backslash) or is
/// empty has its unsafe characters replaced by `_` (the mapping is returned to the caller).
public enum NumpyArchive {
    /// The member key used for a tensor name: the name itself when it is a safe relative path.
    public static func key(for name: String) -> String {
        let parts = name.split(separator: "/", omittingEmptySubsequences: false)
        let safe = !name.isEmpty && !name.hasPrefix("/") && !name.contains("\\") && !parts.contains("..") && !parts.contains("")
        return safe ? name : String(name.map { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." ? $0 : "_" })
    }

    /// Writes the tensors, in order, to `url`: the archive is built in memory and written by
    /// `AtomicFile` (a temporary file renamed into place, never over an input).
    @discardableResult
    public static func write(_ tensors: [(name: String, tensor: Tensor)], to url: URL) throws -> [String: String] {
        var keys = [String: String]()
        let contents: Data
        do {
            let archive = try Archive(data: Data(), accessMode: .create)
            for (name, tensor) in tensors {
                var key = key(for: name)
                while keys.values.contains(key) { key += "_" }
                keys[name] = key
                let data = NumpyFile.encode(tensor)
                try archive.addEntry(with: key + ".npy", type: .file, uncompressedSize: Int64(data.count)) { position, size in
                    data.subdata(in: Int(position)..<Int(position) + size)
                }
            }
            guard let data = archive.data else { throw CNNVizError(.writeFailed, "the .npz archive came out empty", location: url.path) }
            contents = data
        } catch let error as CNNVizError {
            throw error
        } catch {
            throw CNNVizError(.writeFailed, "cannot build the .npz archive", location: url.path, cause: error)
        }
        try AtomicFile.write(contents, to: url)
        return keys
    }
}
