import CNNVizRuntime

/// A convolution's weights [O, I, kh, kw] as a grid of tiles, titled with the layer name and
/// the weight shape. Each tap becomes `scale` × `scale` pixels (nearest-neighbour), so a 3×3
/// filter stays nine visible squares.
///
/// Modes:
/// - `rgb` (first layers, I = 3): one colour tile per filter, the three input channels as
///   R, G, B, each tile min-max normalised on its own (over all three channels, so the
///   balance between colours is kept). Pitfall: a model fed BGR (Caffe) has blue first;
///   set `inputChannelOrder = .bgr` to draw it in true colour.
/// - `perInputChannel`: one grayscale tile per (output, input) pair, one row per output
///   and one column per input.
/// - `meanOverInputs`: one grayscale tile per filter, the mean over its inputs.
/// - `automatic`: `rgb` when I = 3, `perInputChannel` otherwise.
/// Tiles are listed output-major in `tiles`; the tile at index i is at `layout.origin(ofTile: i)`.
public struct FilterGrid: Sendable {
    public enum Mode: Sendable, Equatable { case automatic, rgb, perInputChannel, meanOverInputs }
    public enum ChannelOrder: Sendable { case rgb, bgr }

    /// The filter a tile shows: `input` is nil for an RGB or mean tile.
    public struct Tile: Sendable, Equatable {
        public var output: Int
        public var input: Int?
        public init(output: Int, input: Int?) {
            self.output = output
            self.input = input
        }
    }

    public struct Options: Sendable {
        public var mode: Mode = .automatic
        /// The order of the three input channels in `rgb` mode.
        public var inputChannelOrder: ChannelOrder = .rgb
        /// At most this many filters (the first ones); nil for all.
        public var maximumOutputs: Int? = 64
        /// At most this many inputs per filter in `perInputChannel` mode; nil for all.
        public var maximumInputs: Int? = 64
        /// Pixels per tap; nil picks the smallest scale that makes a tile `minimumTileSide` wide.
        public var scale: Int?
        public var minimumTileSide = 32
        /// Tiles per row in `rgb` and `meanOverInputs` modes; nil for ⌈√count⌉.
        public var columns: Int?
        public var spacing = 2
        public var margin = 8
        /// The colormap of grayscale tiles (index round(255·x)).
        public var colormap: Colormap = .gray
        public var normalization: TileNormalization = .perTile
        /// Prints the filter index under each tile in `rgb` and `meanOverInputs` modes.
        public var showLabels = true
        public var background: RGBColor = .white

        public init() {}
    }

    public let picture: Picture
    public let layout: GridLayout
    public let tiles: [Tile]
    /// The mode used (`automatic` resolved).
    public let mode: Mode
    public let scale: Int
    public let title: String

    static let titleSize = 13.0
    static let headerHeight = 22
    static let labelSize = 10.0
    static let labelHeight = 14

    /// Lays out `weights` ([O, I, kh, kw], or [O, I, k] for 1-D convolutions) of `layerName`.
    public init(weights: Tensor, layerName: String, options: Options = Options()) throws {
        let shape = weights.shape
        guard weights.isFloatingPoint, shape.count == 4 || shape.count == 3 else {
            throw CNNVizError(.shapeMismatch, "filter weights must be floating-point [O, I, kh, kw] or [O, I, k], "
                                  + "not \(weights.elementType) \(shape)", location: layerName)
        }
        let outputs = shape[0], inputs = shape[1]
        let kernelHeight = shape.count == 4 ? shape[2] : 1, kernelWidth = shape[shape.count - 1]
        guard outputs > 0, inputs > 0, kernelHeight > 0, kernelWidth > 0 else {
            throw CNNVizError(.shapeMismatch, "filter weights \(shape) are empty", location: layerName)
        }
        var mode = options.mode
        if mode == .automatic { mode = inputs == 3 ? .rgb : .perInputChannel }
        if mode == .rgb && inputs != 3 {
            throw CNNVizError(.invalidArgument, "RGB filter tiles need 3 input channels, but the weights are \(shape); "
                                  + "use the per-input or mean mode", location: layerName)
        }
        let shownOutputs = min(outputs, max(1, options.maximumOutputs ?? outputs))
        let shownInputs = mode == .perInputChannel ? min(inputs, max(1, options.maximumInputs ?? inputs)) : inputs
        let planeSize = kernelHeight * kernelWidth
        let values = weights.floats

        // One array of values per tile, channel-planar (3 planes for RGB, 1 otherwise).
        var tiles: [Tile] = []
        var tileValues: [[Float]] = []
        for output in 0..<shownOutputs {
            let filter = output * inputs * planeSize
            switch mode {
            case .rgb:
                let order = options.inputChannelOrder == .rgb ? [0, 1, 2] : [2, 1, 0]
                tiles.append(Tile(output: output, input: nil))
                tileValues.append(order.flatMap { values[(filter + $0 * planeSize)..<(filter + ($0 + 1) * planeSize)] })
            case .meanOverInputs:
                var mean = [Float](repeating: 0, count: planeSize)
                for input in 0..<inputs {
                    for index in 0..<planeSize { mean[index] += values[filter + input * planeSize + index] }
                }
                tiles.append(Tile(output: output, input: nil))
                tileValues.append(mean.map { $0 / Float(inputs) })
            case .perInputChannel, .automatic:
                for input in 0..<shownInputs {
                    tiles.append(Tile(output: output, input: input))
                    tileValues.append(Array(values[(filter + input * planeSize)..<(filter + (input + 1) * planeSize)]))
                }
            }
        }

        let shared = TileNormalization.range(of: tileValues.joined())
        let images: [RGBAImage] = tileValues.map { tile in
            let range = options.normalization == .shared ? shared : TileNormalization.range(of: tile)
            let scaled = TileNormalization.scaled(tile[...], minimum: range.minimum, maximum: range.maximum)
            return mode == .rgb
                ? FilterGrid.colorTile(scaled, width: kernelWidth, height: kernelHeight)
                : FilterGrid.grayTile(scaled, width: kernelWidth, height: kernelHeight, colormap: options.colormap)
        }

        let scale = options.scale.map { max(1, $0) }
            ?? GridLayout.scale(forSide: max(kernelHeight, kernelWidth), minimum: options.minimumTileSide)
        let labelled = options.showLabels && mode != .perInputChannel
        let columns = mode == .perInputChannel
            ? shownInputs : max(1, options.columns ?? GridLayout.defaultColumns(for: tiles.count))
        let layout = GridLayout(count: tiles.count, columns: columns, tileWidth: kernelWidth * scale,
                                tileHeight: kernelHeight * scale, spacing: options.spacing, margin: options.margin,
                                headerHeight: FilterGrid.headerHeight, labelHeight: labelled ? FilterGrid.labelHeight : 0)

        var title = "\(layerName)  \(shape)"
        switch mode {
        case .rgb: title += options.inputChannelOrder == .bgr ? "  (inputs as BGR)" : ""
        case .meanOverInputs: title += "  mean over \(inputs) inputs"
        case .perInputChannel, .automatic:
            title += "  rows: outputs, columns: inputs"
            if shownInputs < inputs { title += "  first \(shownInputs) of \(inputs) inputs" }
        }
        if shownOutputs < outputs { title += "  first \(shownOutputs) of \(outputs) filters" }

        self.picture = GridPicture.make(layout: layout, title: title, titleSize: FilterGrid.titleSize,
                                        tiles: images, labels: labelled ? tiles.map { "\($0.output)" } : [],
                                        labelSize: FilterGrid.labelSize, background: options.background)
        self.layout = layout
        self.tiles = tiles
        self.mode = mode
        self.scale = scale
        self.title = title
    }

    /// An RGB tile from three planes in [0, 1]: byte = round(255·x).
    static func colorTile(_ planes: [Float], width: Int, height: Int) -> RGBAImage {
        let count = width * height
        var pixels = [UInt8](repeating: 255, count: 4 * count)
        for index in 0..<count {
            for channel in 0..<3 {
                pixels[4 * index + channel] = UInt8((255 * planes[channel * count + index]).rounded())
            }
        }
        return RGBAImage(width: width, height: height, pixels: pixels)
    }

    /// A tile from one plane in [0, 1] through `colormap` (index round(255·x)).
    static func grayTile(_ plane: [Float], width: Int, height: Int, colormap: Colormap) -> RGBAImage {
        var pixels = [UInt8](repeating: 255, count: 4 * plane.count)
        for (index, value) in plane.enumerated() {
            let color = colormap.color(at: value)
            pixels[4 * index] = color.red
            pixels[4 * index + 1] = color.green
            pixels[4 * index + 2] = color.blue
        }
        return RGBAImage(width: width, height: height, pixels: pixels)
    }
}
