import CNNVizImaging

/// A picture as a list of drawing elements on a width × height canvas (in pixels, which are
/// points in PDF and SVG). It is a plain value: every renderer (the raster image surface for
/// PNG, Cairo's PDF and SVG surfaces) replays the same elements, so the three formats agree.
///
/// Images are placed with nearest-neighbour scaling, so a 3×3 filter scaled ×8 stays eight
/// pixels per tap, and an image placed at integer coordinates with its own size is copied
/// pixel for pixel into the PNG.
public struct Picture: Sendable {
    public var width: Int
    public var height: Int
    /// Painted under everything; nil leaves the canvas transparent.
    public var background: RGBColor?
    public var elements: [Element]

    public init(width: Int, height: Int, background: RGBColor? = .white, elements: [Element] = []) {
        precondition(width >= 0 && height >= 0, "negative picture size \(width)×\(height)")
        self.width = width
        self.height = height
        self.background = background
        self.elements = elements
    }

    /// A rectangle in picture coordinates: origin at the top-left corner, y downwards.
    public struct Rect: Hashable, Sendable {
        public var x: Double
        public var y: Double
        public var width: Double
        public var height: Double

        public init(x: Double, y: Double, width: Double, height: Double) {
            self.x = x
            self.y = y
            self.width = width
            self.height = height
        }

        public init(x: Int, y: Int, width: Int, height: Int) {
            self.init(x: Double(x), y: Double(y), width: Double(width), height: Double(height))
        }
    }

    /// Where a text's anchor point sits on the text: its left end, centre or right end,
    /// on the baseline.
    public enum TextAnchor: Sendable {
        case left, center, right
    }

    public enum Element: Sendable {
        /// `image` stretched over `frame` with nearest-neighbour sampling.
        case image(RGBAImage, frame: Rect)
        /// A filled rectangle.
        case rectangle(Rect, fill: RGBColor)
        /// A rectangle's outline, `lineWidth` wide, centred on its edges.
        case outline(Rect, stroke: RGBColor, lineWidth: Double)
        /// One line of sans-serif text, `size` pixels high, its baseline at y.
        case text(String, x: Double, y: Double, size: Double, color: RGBColor, anchor: TextAnchor)
    }

    /// Adds an element on top of the others.
    public mutating func add(_ element: Element) { elements.append(element) }

    /// Adds `image` at (x, y), `scale` pixels per image pixel.
    public mutating func addImage(_ image: RGBAImage, x: Int, y: Int, scale: Int = 1) {
        elements.append(.image(image, frame: Rect(x: x, y: y, width: image.width * scale, height: image.height * scale)))
    }

    /// Adds `image` at (x, y), `scale` pixels per image pixel.
    public mutating func addImage(_ image: RGBImage, x: Int, y: Int, scale: Int = 1) {
        addImage(RGBAImage(image), x: x, y: y, scale: scale)
    }

    /// A picture of just `image`, pixel for pixel.
    public init(image: RGBImage) {
        self.init(width: image.width, height: image.height)
        addImage(image, x: 0, y: 0)
    }

    /// A picture of just `image`, pixel for pixel, transparency kept.
    public init(image: RGBAImage) {
        self.init(width: image.width, height: image.height, background: nil)
        addImage(image, x: 0, y: 0)
    }
}
