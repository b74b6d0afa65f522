import Foundation

/// The ground truth of a set of scenes as JSON: `shapes generate` writes it beside the PNGs.
///
/// Masks are run-length encoded in row-major order: `counts` alternates runs of uncovered and
/// covered pixels, starting with uncovered (possibly a run of 0). Pitfall: COCO's RLE runs
/// in column-major order; this one does not.
public struct SceneAnnotations: Codable, Sendable {
    public var seed: UInt64
    public var size: Int
    public var classes: [String]
    public var scenes: [Entry]

    public struct Entry: Codable, Sendable {
        public var file: String
        public var index: Int
        public var labels: [String]
        public var objects: [Object]
    }

    public struct Object: Codable, Sendable {
        public var classIndex: Int
        public var label: String
        public var box: BoundingBox
        public var center: [Double]
        public var radius: Double
        public var rotation: Double
        public var color: [UInt8]
        public var mask: RunLengthMask
    }

    public init(seed: UInt64, size: Int, scenes: [(file: String, scene: Scene)]) {
        self.seed = seed
        self.size = size
        classes = ShapeClass.names
        self.scenes = scenes.map { file, scene in
            Entry(file: file, index: scene.index, labels: scene.classes.map(\.name), objects: scene.objects.map { object in
                Object(classIndex: object.shape.rawValue, label: object.shape.name, box: object.box,
                       center: [object.centerX, object.centerY], radius: object.radius, rotation: object.rotation,
                       color: object.color, mask: RunLengthMask(object.mask, width: size))
            })
        }
    }
}

/// A binary mask as row-major run lengths, starting with a run of false.
public struct RunLengthMask: Codable, Equatable, Sendable {
    public var width: Int
    public var height: Int
    public var counts: [Int]

    public init(_ mask: [Bool], width: Int) {
        self.width = width
        height = width == 0 ? 0 : mask.count / width
        var counts = [Int](), current = false, run = 0
        for value in mask {
            if value == current { run += 1 } else {
                counts.append(run)
                current = value
                run = 1
            }
        }
        counts.append(run)
        self.counts = counts
    }

    /// The decoded mask.
    public var mask: [Bool] {
        var result = [Bool](), value = false
        result.reserveCapacity(width * height)
        for count in counts {
            result += repeatElement(value, count: count)
            value.toggle()
        }
        return result
    }
}
