import Foundation

/// Arrays computed from an op's weights, such as Winograd's transformed filters or the flipped
/// filters of Conv's backward pass, kept per op and per kind until the weights change.
///
/// A model's weights stay the same from run to run, so the transform is paid once per session.
/// Pitfall: weights are recognised by their buffer's address, which a later array could reuse
/// once the first is freed; each entry therefore holds on to the array it was made from.
final class DerivedWeights: @unchecked Sendable {
    private let lock = NSLock()
    private var entries = [String: (source: [Float], derived: [Float])]()
    private var children = [String: DerivedWeights]()
    private var objects = [String: (sources: [[Float]], object: AnyObject)]()

    /// `make(source)`, or the array it returned for this kind when `source` was last seen.
    func value(_ kind: String, from source: [Float], _ make: ([Float]) -> [Float]) -> [Float] {
        lock.lock()
        if let entry = entries[kind], Self.sameBuffer(entry.source, source) {
            lock.unlock()
            return entry.derived
        }
        lock.unlock()
        let derived = make(source)
        lock.lock()
        entries[kind] = (source, derived)
        lock.unlock()
        return derived
    }

    /// `make()`, or the object it returned for this kind when `sources` (the weights and bias
    /// it was made from) were last seen; for engine primitives that hold reordered weights.
    func object<T: AnyObject>(_ kind: String, from sources: [[Float]], _ make: () throws -> T) throws -> T {
        lock.lock()
        if let entry = objects[kind], entry.sources.count == sources.count, zip(entry.sources, sources).allSatisfy(Self.sameBuffer),
           let object = entry.object as? T {
            lock.unlock()
            return object
        }
        lock.unlock()
        let object = try make()
        lock.lock()
        objects[kind] = (sources, object)
        lock.unlock()
        return object
    }

    /// A separate store under this one, for a helper op that works on derived weights
    /// (the transposed conv of a backward pass).
    func child(_ name: String) -> DerivedWeights {
        lock.lock()
        defer { lock.unlock() }
        if let child = children[name] { return child }
        let child = DerivedWeights()
        children[name] = child
        return child
    }

    private static func sameBuffer(_ a: [Float], _ b: [Float]) -> Bool {
        a.count == b.count && a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in pa.baseAddress == pb.baseAddress } }
    }
}
