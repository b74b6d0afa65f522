import CNNVizRuntime
import Foundation

/// A run's floating-point activations kept on disk, one raw Float32 file per tensor, so that
/// two runs can be compared layer by layer with only two activations in memory at a time.
///
/// `hooks(for:)` gives activation hooks that write each tensor as the graph produces it (the
/// executor frees it after its last use, as usual); `tensor(_:)` reads one back. The files
/// live in a fresh temporary directory that is removed with the spill.
///
/// Pitfall: the page cache usually keeps the files in memory anyway, but as reclaimable cache,
/// not as the process's own memory; on a machine short of memory they go to disk.
public final class ActivationSpill {
    public let directory: URL
    /// The spilled tensors' shapes, by name.
    public private(set) var shapes: [String: [Int]] = [:]
    private var files: [String: URL] = [:]

    public init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("cnn-viz-spill-\(UUID().uuidString)")
        do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) } catch {
            throw CNNVizError(.writeFailed, "cannot create a temporary directory for activations", location: directory.path, cause: error)
        }
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    /// Hooks that spill each named floating-point tensor, after `transform` (which may replace
    /// it downstream, as fp16 rounding does). Integer tensors pass untouched; those of a
    /// quantized graph with known parameters (`quantized`) are spilled as their real values.
    public func hooks(for names: [String], transform: ((_ name: String, _ tensor: Tensor) -> Tensor)? = nil,
                      quantized: [String: TensorQuantization] = [:]) -> [String: ActivationHook] {
        var hooks = [String: ActivationHook]()
        for name in names {
            hooks[name] = { [unowned self] name, tensor in
                if !tensor.isFloatingPoint, let quantization = quantized[name] {
                    try self.store(try quantization.dequantize(tensor), name: name)
                    return nil
                }
                guard tensor.isFloatingPoint else { return nil }
                let value = transform?(name, tensor) ?? tensor
                try self.store(value, name: name)
                return transform == nil ? nil : value
            }
        }
        return hooks
    }

    /// Runs `session` on `input` with every tensor spilled (after `transform`, see `hooks`).
    public func record(_ session: Session, input: Tensor, transform: ((_ name: String, _ tensor: Tensor) -> Tensor)? = nil) throws {
        _ = try session.run([session.graph.inputs[0].name: input],
                            hooks: hooks(for: session.graph.tensorNames, transform: transform, quantized: session.graph.quantizedTensors()))
    }

    /// Writes the tensor's bytes straight from its storage (no intermediate copy).
    func store(_ tensor: Tensor, name: String) throws {
        let url = directory.appendingPathComponent("\(files.count).f32")
        let floats = tensor.floats
        let written = floats.withUnsafeBytes { bytes -> Bool in
            guard let file = fopen(url.path, "wb") else { return false }
            defer { fclose(file) }
            return bytes.isEmpty || fwrite(bytes.baseAddress, 1, bytes.count, file) == bytes.count
        }
        guard written else {
            throw CNNVizError(.writeFailed, "cannot spill activation '\(name)' (\(4 * floats.count) bytes) to disk", location: url.path)
        }
        files[name] = url
        shapes[name] = tensor.shape
    }

    /// The spilled tensor, read straight into its storage, or nil when `name` was not spilled.
    public func tensor(_ name: String) throws -> Tensor? {
        guard let url = files[name], let shape = shapes[name] else { return nil }
        let count = shape.reduce(1, *)
        var complete = false
        let floats = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            if let file = fopen(url.path, "rb") {
                complete = fread(buffer.baseAddress, MemoryLayout<Float>.size, count, file) == count || count == 0
                fclose(file)
            }
            if !complete { buffer.initialize(repeating: 0) }
            initialized = count
        }
        guard complete else {
            throw CNNVizError(.invalidArgument, "cannot read back spilled activation '\(name)' (\(count) floats)", location: url.path)
        }
        return Tensor(shape: shape, floats: floats)
    }
}
