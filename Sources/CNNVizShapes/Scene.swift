import CNNVizImaging

/// One generated scene: the picture and, per object, its class and exact ground truth.
public struct Scene: Sendable {
    /// The scene's number within its generator (scene `index` of seed S is always the same).
    public var index: Int
    public var image: RGBImage
    public var objects: [SceneObject]

    /// The classes present, in class order.
    public var classes: [ShapeClass] { Set(objects.map(\.shape)).sorted { $0.rawValue < $1.rawValue } }
}

/// An object in a scene: class, geometry, colour and the pixels it covers.
public struct SceneObject: Sendable {
    public var shape: ShapeClass
    public var centerX: Double
    public var centerY: Double
    /// The distance from the centre to the shape's farthest point, in pixels.
    public var radius: Double
    /// Radians, clockwise.
    public var rotation: Double
    public var color: [UInt8]
    /// Row-major, one flag per pixel: true where the drawn shape covers at least half the pixel
    /// (Cairo's antialiased coverage ≥ 128/255). Objects never overlap, so this is what shows.
    public var mask: [Bool]
    public var box: BoundingBox
}

/// Pixel bounds of a mask: columns `x0..<x1`, rows `y0..<y1`.
public struct BoundingBox: Codable, Equatable, Sendable {
    public var x0: Int
    public var y0: Int
    public var x1: Int
    public var y1: Int

    /// The tightest box around the true pixels of a `width`-wide row-major mask, or nil if none.
    init?(mask: [Bool], width: Int) {
        var x0 = Int.max, y0 = Int.max, x1 = -1, y1 = -1
        for (index, covered) in mask.enumerated() where covered {
            let x = index % width, y = index / width
            x0 = min(x0, x); y0 = min(y0, y); x1 = max(x1, x + 1); y1 = max(y1, y + 1)
        }
        guard x1 > 0 else { return nil }
        self.init(x0: x0, y0: y0, x1: x1, y1: y1)
    }

    public init(x0: Int, y0: Int, x1: Int, y1: Int) {
        self.x0 = x0; self.y0 = y0; self.x1 = x1; self.y1 = y1
    }
}
