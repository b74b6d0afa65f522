import CNNVizRuntime

/// One detection of a raw detector head, before non-maximum suppression.
///
/// Layouts understood (boxes as centre x, centre y, width, height in input pixels, as
/// ultralytics and YOLOX exports decode them):
/// - `anchorsByFields`, YOLOv5 / YOLOX `[N, A, 5 + C]`: (cx, cy, w, h, objectness, class
///   scores…); s = objectness · class score.
/// - `fieldsByAnchors`, YOLOv8 `[N, 4 + C, A]`: (cx, cy, w, h, class scores…) with no
///   objectness; s = class score.
///
/// The anchor is the one whose box best overlaps a given box (IoU, ties to the higher score),
/// or the k-th best detection by score. The class is the given one, else the anchor's best.
/// Pitfall: the choice of anchor depends on y but is piecewise constant, so it is held fixed in
/// the gradient; s itself is a product, so ∂s/∂objectness = class score and ∂s/∂class =
/// objectness. Another layout (grid-relative boxes, separate box and score outputs) is
/// explained with an `ElementTarget` on the score, or a `CotangentTarget`.
public struct DetectionTarget: AttributionTarget {
    public enum Layout: String, Sendable, CaseIterable {
        case anchorsByFields = "yolov5"
        case fieldsByAnchors = "yolov8"
    }

    public enum Selection: Sendable {
        /// The anchor whose decoded box has the highest IoU with x0, y0, x1, y1 (input pixels).
        case overlapping(x0: Float, y0: Float, x1: Float, y1: Float)
        /// The k-th best detection (0 is the best) by its score.
        case rank(Int)
    }

    public var selection: Selection
    public var classChoice: Int?
    /// Nil: `fieldsByAnchors` when the item has more anchors than fields along axis 1, else
    /// `anchorsByFields`.
    public var layout: Layout?
    public var tensor: String?

    public init(_ selection: Selection, class classChoice: Int? = nil, layout: Layout? = nil, tensor: String? = nil) {
        self.selection = selection
        self.classChoice = classChoice
        self.layout = layout
        self.tensor = tensor
    }

    public var classIndex: Int? { classChoice }

    public var summary: String {
        let what: String
        switch selection {
        case .overlapping(let x0, let y0, let x1, let y1): what = "the detection overlapping \(x0),\(y0),\(x1),\(y1)"
        case .rank(let k): what = "detection #\(k + 1)"
        }
        return what + (classChoice.map { ", class \($0)" } ?? "")
    }

    /// Where the fields of one anchor live in an item.
    struct Head {
        let anchors: Int, fields: Int, hasObjectness: Bool
        let layout: Layout
        func offset(anchor: Int, field: Int) -> Int {
            layout == .anchorsByFields ? anchor * fields + field : field * anchors + anchor
        }
        var classes: Int { fields - (hasObjectness ? 5 : 4) }
        var firstClass: Int { hasObjectness ? 5 : 4 }
    }

    func head(_ item: TargetItem) throws -> Head {
        guard item.shape.count == 2 else {
            throw TargetError.doesNotFit(target: summary, tensor: item.tensor, shape: item.tensorShape,
                                         detail: "a detection needs a raw [N, A, 5+C] (YOLOv5/YOLOX) or [N, 4+C, A] (YOLOv8) head")
        }
        let layout = self.layout ?? (item.shape[1] > item.shape[0] ? .fieldsByAnchors : .anchorsByFields)
        let (anchors, fields) = layout == .anchorsByFields ? (item.shape[0], item.shape[1]) : (item.shape[1], item.shape[0])
        let head = Head(anchors: anchors, fields: fields, hasObjectness: layout == .anchorsByFields, layout: layout)
        guard head.classes >= 1 else {
            throw TargetError.doesNotFit(target: summary, tensor: item.tensor, shape: item.tensorShape,
                                         detail: "\(fields) fields per anchor leave no class scores in the \(layout.rawValue) layout")
        }
        if let classChoice, !(0..<head.classes).contains(classChoice) {
            throw TargetError.doesNotFit(target: summary, tensor: item.tensor, shape: item.tensorShape,
                                         detail: "class \(classChoice) is out of range: the head has \(head.classes) classes")
        }
        return head
    }

    /// The chosen anchor and class.
    public func choose(_ item: TargetItem) throws -> (anchor: Int, class: Int) {
        let head = try head(item)
        func field(_ a: Int, _ f: Int) -> Float { item[head.offset(anchor: a, field: f)] }
        func bestClass(_ a: Int) -> Int { (0..<head.classes).max { field(a, head.firstClass + $0) < field(a, head.firstClass + $1) }! }
        func score(_ a: Int, _ c: Int) -> Float { field(a, head.firstClass + c) * (head.hasObjectness ? field(a, 4) : 1) }
        let anchorScore = { (a: Int) in score(a, classChoice ?? bestClass(a)) }
        let anchor: Int
        switch selection {
        case .overlapping(let x0, let y0, let x1, let y1):
            let ious = (0..<head.anchors).map { a in
                Self.iou((x0, y0, x1, y1), (field(a, 0) - field(a, 2) / 2, field(a, 1) - field(a, 3) / 2,
                                            field(a, 0) + field(a, 2) / 2, field(a, 1) + field(a, 3) / 2))
            }
            anchor = (0..<head.anchors).max { (ious[$0], anchorScore($0)) < (ious[$1], anchorScore($1)) }!
        case .rank(let k):
            guard k >= 0 && k < head.anchors else {
                throw TargetError.doesNotFit(target: summary, tensor: item.tensor, shape: item.tensorShape,
                                             detail: "the head has \(head.anchors) anchors")
            }
            let scores = (0..<head.anchors).map(anchorScore)
            anchor = scores.indices.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }[k]
        }
        return (anchor, classChoice ?? bestClass(anchor))
    }

    /// The chosen anchor's box (x0, y0, x1, y1) in input pixels.
    public func box(_ item: TargetItem) throws -> (Float, Float, Float, Float) {
        let head = try head(item), anchor = try choose(item).anchor
        let f = { (field: Int) in item[head.offset(anchor: anchor, field: field)] }
        return (f(0) - f(2) / 2, f(1) - f(3) / 2, f(0) + f(2) / 2, f(1) + f(3) / 2)
    }

    public func score(_ item: TargetItem) throws -> Float {
        let head = try head(item), (anchor, c) = try choose(item)
        let classScore = item[head.offset(anchor: anchor, field: head.firstClass + c)]
        return head.hasObjectness ? classScore * item[head.offset(anchor: anchor, field: 4)] : classScore
    }

    public func cotangent(_ item: TargetItem) throws -> [Float] {
        let head = try head(item), (anchor, c) = try choose(item)
        let classOffset = head.offset(anchor: anchor, field: head.firstClass + c)
        guard head.hasObjectness else { return item.sparseCotangent([(classOffset, 1)]) }
        let objectnessOffset = head.offset(anchor: anchor, field: 4)
        return item.sparseCotangent([(classOffset, item[objectnessOffset]), (objectnessOffset, item[classOffset])])
    }

    /// Intersection over union of two (x0, y0, x1, y1) boxes; 0 when either is empty.
    static func iou(_ a: (Float, Float, Float, Float), _ b: (Float, Float, Float, Float)) -> Float {
        let w = max(0, min(a.2, b.2) - max(a.0, b.0)), h = max(0, min(a.3, b.3) - max(a.1, b.1))
        let intersection = w * h
        let union = max(0, a.2 - a.0) * max(0, a.3 - a.1) + max(0, b.2 - b.0) * max(0, b.3 - b.1) - intersection
        return union > 0 ? intersection / union : 0
    }
}
