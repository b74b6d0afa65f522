import CNNVizRuntime

/// A layer's activations [N, C, H, W] (one batch item) as a grid of channel tiles, titled
/// with the layer name and shape, each tile labelled with its channel id.
///
/// Channels are sorted by mean activation, largest first (ties: lower channel id first; a
/// channel whose mean is NaN goes last), and the first `maximumChannels` are shown. With
/// `sortedByMean = false` they keep their order. Pitfall: the mean ranks how strongly a
/// channel fires over the whole image, not how peaked it is; a channel with one bright spot
/// can rank low. Each tile is min-max normalised (on its own by default, see
/// `TileNormalization`) and coloured through `colormap` with index round(255·x), then scaled
/// by nearest-neighbour so small maps stay crisp.
public struct FeatureMapGrid: Sendable {
    public struct Options: Sendable {
        /// Which item of the batch.
        public var batchIndex = 0
        /// The top-N channels shown; nil for all.
        public var maximumChannels: Int? = 32
        public var sortedByMean = true
        /// Pixels per activation; nil picks the smallest scale that makes a tile `minimumTileSide` wide.
        public var scale: Int?
        public var minimumTileSide = 32
        /// Tiles per row; nil for ⌈√count⌉.
        public var columns: Int?
        public var spacing = 2
        public var margin = 8
        public var colormap: Colormap = .viridis
        public var normalization: TileNormalization = .perTile
        /// Prints "#id" under each tile.
        public var showChannelIDs = true
        public var background: RGBColor = .white

        public init() {}
    }

    public let picture: Picture
    public let layout: GridLayout
    /// The channel shown in each tile, in tile order.
    public let channels: [Int]
    /// The mean activation of each shown channel, in tile order.
    public let means: [Float]
    public let scale: Int
    public let title: String

    /// Lays out `activations` ([N, C, H, W] or [C, H, W]) of `layerName`.
    public init(activations: Tensor, layerName: String, options: Options = Options()) throws {
        let shape = activations.shape
        guard activations.isFloatingPoint, shape.count == 4 || shape.count == 3 else {
            throw CNNVizError(.shapeMismatch, "feature maps must be floating-point [N, C, H, W] or [C, H, W], "
                                  + "not \(activations.elementType) \(shape)", location: layerName)
        }
        let batch = shape.count == 4 ? shape[0] : 1
        let channelCount = shape[shape.count - 3], height = shape[shape.count - 2], width = shape[shape.count - 1]
        guard channelCount > 0, height > 0, width > 0 else {
            throw CNNVizError(.shapeMismatch, "feature maps \(shape) are empty", location: layerName)
        }
        guard (0..<batch).contains(options.batchIndex) else {
            throw CNNVizError(.invalidArgument, "batch index \(options.batchIndex) is outside the batch of \(batch) "
                                  + "(shape \(shape))", location: layerName)
        }
        let planeSize = height * width
        let values = activations.floats
        let start = options.batchIndex * channelCount * planeSize
        func plane(_ channel: Int) -> ArraySlice<Float> {
            values[(start + channel * planeSize)..<(start + (channel + 1) * planeSize)]
        }
        let allMeans: [Float] = (0..<channelCount).map { channel in
            Float(plane(channel).reduce(0.0) { $0 + Double($1) } / Double(planeSize))
        }
        var order = Array(0..<channelCount)
        if options.sortedByMean {
            order.sort { a, b in
                let ma = allMeans[a], mb = allMeans[b]
                if ma.isNaN != mb.isNaN { return mb.isNaN }
                if ma.isNaN || ma == mb { return a < b }
                return ma > mb
            }
        }
        let shown = Array(order.prefix(max(1, options.maximumChannels ?? channelCount)))

        let shared = TileNormalization.range(of: shown.lazy.flatMap { plane($0) })
        let images: [RGBAImage] = shown.map { channel in
            let range = options.normalization == .shared ? shared : TileNormalization.range(of: plane(channel))
            let scaled = TileNormalization.scaled(plane(channel), minimum: range.minimum, maximum: range.maximum)
            return FilterGrid.grayTile(scaled, width: width, height: height, colormap: options.colormap)
        }

        let scale = options.scale.map { max(1, $0) }
            ?? GridLayout.scale(forSide: max(height, width), minimum: options.minimumTileSide)
        let layout = GridLayout(count: shown.count,
                                columns: max(1, options.columns ?? GridLayout.defaultColumns(for: shown.count)),
                                tileWidth: width * scale, tileHeight: height * scale,
                                spacing: options.spacing, margin: options.margin, headerHeight: FilterGrid.headerHeight,
                                labelHeight: options.showChannelIDs ? FilterGrid.labelHeight : 0)
        var title = "\(layerName)  \(shape)"
        if batch > 1 { title += "  item \(options.batchIndex)" }
        if shown.count < channelCount {
            title += options.sortedByMean ? "  top \(shown.count) of \(channelCount) by mean" : "  first \(shown.count) of \(channelCount)"
        } else if options.sortedByMean {
            title += "  sorted by mean"
        }
        self.picture = GridPicture.make(layout: layout, title: title, titleSize: FilterGrid.titleSize, tiles: images,
                                        labels: options.showChannelIDs ? shown.map { "#\($0)" } : [],
                                        labelSize: FilterGrid.labelSize, background: options.background)
        self.layout = layout
        self.channels = shown
        self.means = shown.map { allMeans[$0] }
        self.scale = scale
        self.title = title
    }
}
