import Foundation

/// A session's last forward pass, kept whole, so that the next pass on the same feeds reuses
/// it instead of recomputing.
///
/// Explaining one image asks the model three times about the same input: its top-1 class
/// (what a dataset record holds, and what `--class predicted` explains), the shapes of the
/// candidate layers (the default CAM layer), and the forward half of the gradient pass. With
/// the memo these are one forward pass: a later pass whose feeds equal the memo's, element
/// for element, and whose wanted tensors are all among the kept ones, returns them as they
/// are. The values are the same tensors a fresh pass would compute, so results do not change,
/// only the time.
///
/// Pitfall: keeping every tensor of a pass holds all its activations at once (SqueezeNet 28 MB
/// at 224², a 1024² segmentation network gigabytes). A pass is kept only when the tensors that
/// the last pass at the same input shapes computed fit `limit` bytes; the first pass at each
/// shape only measures. Passes with hooks or `given` tensors compute other values, so they
/// neither use nor fill the memo; neither does a pass whose feeds hold a NaN (NaN ≠ NaN).
final class ForwardMemo: @unchecked Sendable {
    /// Bytes of tensors that one kept pass may hold.
    let limit: Int
    private let lock = NSLock()
    private var feeds = [String: Tensor]()
    private var values = [String: Tensor]()
    private var shapes = [String: [Int]]()
    /// Bytes each input shape's pass computed, as last measured.
    private var bytesByInputShapes = [[[Int]]: Int]()
    /// Input shapes measured at once; a model fed many sizes starts over rather than growing.
    static let capacity = 16

    init(limit: Int) { self.limit = limit }

    /// The kept pass, when its feeds equal `feeds` and it holds every tensor `holds` accepts.
    func pass(for feeds: [String: Tensor], holds: (_ values: [String: Tensor]) -> Bool) -> (values: [String: Tensor], shapes: [String: [Int]])? {
        lock.lock()
        defer { lock.unlock() }
        guard !values.isEmpty, feeds.count == self.feeds.count,
              feeds.allSatisfy({ name, tensor in self.feeds[name].map { ForwardMemo.same(tensor, $0) } ?? false }),
              holds(values) else { return nil }
        return (values, shapes)
    }

    /// Whether a pass at these input shapes is small enough to keep (known from an earlier pass).
    func fits(_ inputShapes: [[Int]]) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return bytesByInputShapes[inputShapes].map { $0 <= limit } ?? false
    }

    /// Records a pass: the bytes of what it computed (`shapes`, four bytes an element), and the
    /// pass itself when `values` holds all of it; a pass not kept drops the one before.
    func remember(feeds: [String: Tensor], inputShapes: [[Int]], values: [String: Tensor]?, shapes: [String: [Int]]) {
        let bytes = shapes.values.reduce(0) { $0 + 4 * $1.reduce(1, *) }
        lock.lock()
        defer { lock.unlock() }
        if bytesByInputShapes.count >= Self.capacity { bytesByInputShapes.removeAll() }
        bytesByInputShapes[inputShapes] = bytes
        self.feeds = values == nil ? [:] : feeds
        self.values = values ?? [:]
        self.shapes = values == nil ? [:] : shapes
    }

    /// Drops the kept pass (the measured sizes stay).
    func forget() {
        lock.lock()
        defer { lock.unlock() }
        (feeds, values, shapes) = ([:], [:], [:])
    }

    static func same(_ a: Tensor, _ b: Tensor) -> Bool {
        guard a.shape == b.shape, a.elementType == b.elementType else { return false }
        switch (a.storage, b.storage) {
        case (.float(let x), .float(let y)): return x == y
        case (.integer(let x), .integer(let y)): return x == y
        default: return false
        }
    }
}

extension Session {
    /// Bytes of activations a forward pass may keep whole for the next pass on the same input
    /// (`ForwardMemo`); nil (the default) keeps nothing. Attribution runs set it: each image's
    /// prediction, default layer and gradient pass then share one forward pass.
    public var forwardMemoLimit: Int? {
        get { forwardMemo?.limit }
        set { forwardMemo = newValue.map { ForwardMemo(limit: $0) } }
    }

    /// Drops the kept forward pass, so that the next pass computes everything (a timed
    /// repetition must not be served from the memo).
    public func forgetForwardPass() { forwardMemo?.forget() }

    /// `executeFoldingShapes`, through the forward memo when one is set and the pass has no
    /// hooks or given tensors.
    func execute(_ feeds: [String: Tensor], keeping kept: Set<String>,
                 hooks: [String: ActivationHook], given: [String: Tensor] = [:],
                 shapes: UnsafeMutablePointer<[String: [Int]]>? = nil) throws -> [String: Tensor] {
        guard let memo = forwardMemo, hooks.isEmpty, given.isEmpty else {
            return try executeFoldingShapes(feeds, keeping: kept, hooks: hooks, given: given, shapes: shapes)
        }
        if let hit = memo.pass(for: feeds, holds: { values in kept.allSatisfy { values[$0] != nil || graph.initializers[$0] != nil } }) {
            shapes?.pointee.merge(hit.shapes) { _, new in new }
            return hit.values
        }
        let inputShapes = graph.inputs.map { feeds[$0.name]?.shape ?? [] }
        let keepsAll = memo.fits(inputShapes)
        var recorded = [String: [Int]]()
        let values = try executeFoldingShapes(feeds, keeping: kept, hooks: [:], keepingEverything: keepsAll, shapes: &recorded)
        shapes?.pointee.merge(recorded) { _, new in new }
        memo.remember(feeds: feeds, inputShapes: inputShapes, values: keepsAll ? values : nil, shapes: recorded)
        return values
    }
}
