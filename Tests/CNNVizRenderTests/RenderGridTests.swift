import CNNVizImaging
import CNNVizRender
import CNNVizRuntime
import CNNVizTestSupport
import XCTest

/// Filter and feature-map grids on hand-made tensors: where each tile lands (closed form),
/// the colour of each tap or activation there, and the channel order.
final class RenderGridTests: EngineTestCase {
    /// The drawn colour at the centre of tap (row, column) of tile `index`.
    func color(_ image: RGBImage, _ layout: GridLayout, tile index: Int, row: Int, column: Int, scale: Int) -> RGBColor {
        let origin = layout.origin(ofTile: index)
        let x = origin.x + column * scale + scale / 2, y = origin.y + row * scale + scale / 2
        let offset = 3 * (y * image.width + x)
        return RGBColor(red: image.pixels[offset], green: image.pixels[offset + 1], blue: image.pixels[offset + 2])
    }

    /// Every pixel of the scaled tap (row, column) has the same colour: nearest-neighbour.
    func assertUniformBlock(_ image: RGBImage, _ layout: GridLayout, tile index: Int, row: Int, column: Int, scale: Int,
                            file: StaticString = #filePath, line: UInt = #line) {
        let origin = layout.origin(ofTile: index)
        var colors = Set<[UInt8]>()
        for dy in 0..<scale {
            for dx in 0..<scale {
                let offset = 3 * ((origin.y + row * scale + dy) * image.width + origin.x + column * scale + dx)
                colors.insert(Array(image.pixels[offset..<(offset + 3)]))
            }
        }
        XCTAssertEqual(colors.count, 1, "tile \(index) tap (\(row), \(column)) is not one colour: \(colors)", file: file, line: line)
    }

    func testLayoutIsTheClosedForm() {
        let layout = GridLayout(count: 7, columns: 3, tileWidth: 12, tileHeight: 9, spacing: 2, margin: 8,
                                headerHeight: 22, labelHeight: 14)
        XCTAssertEqual(layout.rows, 3)
        XCTAssertEqual(layout.width, 8 + 3 * 12 + 2 * 2 + 8)
        XCTAssertEqual(layout.height, 8 + 22 + 3 * (9 + 14) + 2 * 2 + 8)
        XCTAssertTrue(layout.origin(ofTile: 0) == (8, 30))
        XCTAssertTrue(layout.origin(ofTile: 5) == (8 + 2 * 14, 30 + 1 * 25))
        XCTAssertTrue(layout.origin(ofTile: 6) == (8, 30 + 2 * 25))
        XCTAssertEqual(GridLayout.defaultColumns(for: 10), 4)
        XCTAssertEqual(GridLayout.scale(forSide: 3, minimum: 32), 11)
        XCTAssertEqual(GridLayout.scale(forSide: 55, minimum: 32), 1)
    }

    /// Two 3-input 2×2 filters with values 0…11 and 12…23 scaled by (v − min)/(max − min):
    /// tap (r, c) of input channel k of filter o is w = 12·o + 4·k + 2·r + c, so it is drawn as
    /// round(255·(4·k + 2·r + c)/11) in channel k, whatever the filter's offset.
    func testFirstLayerFiltersAreColourTilesEachNormalisedOnItsOwn() throws {
        let weights = Tensor(shape: [2, 3, 2, 2], floats: (0..<24).map { Float($0) })
        var options = FilterGrid.Options()
        options.scale = 4
        let grid = try FilterGrid(weights: weights, layerName: "conv1", options: options)
        XCTAssertEqual(grid.mode, .rgb)
        XCTAssertEqual(grid.tiles, [.init(output: 0, input: nil), .init(output: 1, input: nil)])
        XCTAssertEqual(grid.layout, GridLayout(count: 2, columns: 2, tileWidth: 8, tileHeight: 8, spacing: 2, margin: 8,
                                               headerHeight: 22, labelHeight: 14))
        XCTAssertTrue(grid.title.hasPrefix("conv1  [2, 3, 2, 2]"), grid.title)
        let image = try grid.picture.renderedRGB()
        XCTAssertEqual(image.height, grid.layout.height)
        for tile in 0..<2 {
            for row in 0..<2 {
                for column in 0..<2 {
                    let level = { (k: Int) in UInt8((255 * Double(4 * k + 2 * row + column) / 11).rounded()) }
                    XCTAssertEqual(color(image, grid.layout, tile: tile, row: row, column: column, scale: 4),
                                   RGBColor(red: level(0), green: level(1), blue: level(2)), "tile \(tile) (\(row), \(column))")
                    assertUniformBlock(image, grid.layout, tile: tile, row: row, column: column, scale: 4)
                }
            }
        }
        // BGR inputs are drawn in true colour: channel 2 is red.
        options.inputChannelOrder = .bgr
        let bgr = try FilterGrid(weights: weights, layerName: "conv1", options: options)
        let swapped = try bgr.picture.renderedRGB()
        XCTAssertEqual(color(swapped, bgr.layout, tile: 1, row: 0, column: 1, scale: 4),
                       RGBColor(red: UInt8((255 * 9.0 / 11).rounded()), green: UInt8((255 * 5.0 / 11).rounded()),
                                blue: UInt8((255 * 1.0 / 11).rounded())))
    }

    /// A 3×3 kernel per (output, input): one row per output, one column per input, each tile
    /// gray = round(255·(w − min)/(max − min)) over its own nine taps.
    func testDeeperFiltersAreGrayTilesPerPairOrMean() throws {
        // w[o, i, r, c] = (o + 1)·(3r + c) + 10·i, so every tile spans 0…8 after its own min-max.
        var values: [Float] = []
        for o in 0..<2 { for i in 0..<4 { for r in 0..<3 { for c in 0..<3 { values.append(Float((o + 1) * (3 * r + c) + 10 * i)) } } } }
        let weights = Tensor(shape: [2, 4, 3, 3], floats: values)
        var options = FilterGrid.Options()
        options.scale = 3
        options.maximumInputs = 3
        let grid = try FilterGrid(weights: weights, layerName: "conv2", options: options)
        XCTAssertEqual(grid.mode, .perInputChannel)
        XCTAssertEqual(grid.tiles.count, 6)
        XCTAssertEqual(grid.tiles[4], .init(output: 1, input: 1))
        XCTAssertEqual(grid.layout.columns, 3)
        XCTAssertEqual(grid.layout.labelHeight, 0)
        XCTAssertTrue(grid.layout.origin(ofTile: 4) == (8 + 1 * (9 + 2), 8 + 22 + 1 * (9 + 2)))
        let image = try grid.picture.renderedRGB()
        for tile in 0..<6 {
            for tap in 0..<9 {
                let level = UInt8((255 * Double(tap) / 8).rounded())
                XCTAssertEqual(color(image, grid.layout, tile: tile, row: tap / 3, column: tap % 3, scale: 3),
                               RGBColor(gray: level), "tile \(tile) tap \(tap)")
            }
        }
        // The mean over inputs: (o + 1)·(3r + c) + 15, again 0…8 after min-max; shared
        // normalisation puts filter 0 (spanning 15…23 of 15…31) in the lower half.
        options.mode = .meanOverInputs
        options.normalization = .shared
        let mean = try FilterGrid(weights: weights, layerName: "conv2", options: options)
        XCTAssertEqual(mean.tiles, [.init(output: 0, input: nil), .init(output: 1, input: nil)])
        let meanImage = try mean.picture.renderedRGB()
        XCTAssertEqual(color(meanImage, mean.layout, tile: 0, row: 2, column: 2, scale: 3),
                       RGBColor(gray: UInt8((255 * 8.0 / 16).rounded())))
        XCTAssertEqual(color(meanImage, mean.layout, tile: 1, row: 2, column: 2, scale: 3), RGBColor(gray: 255))
    }

    func testFilterGridRejectsWhatItCannotDraw() {
        XCTAssertThrowsError(try FilterGrid(weights: Tensor.zeros([4, 4]), layerName: "fc")) {
            let error = $0 as! CNNVizError
            XCTAssertEqual(error.code, .shapeMismatch)
            XCTAssertEqual(error.location, "fc")
        }
        var options = FilterGrid.Options()
        options.mode = .rgb
        XCTAssertThrowsError(try FilterGrid(weights: Tensor.zeros([4, 2, 3, 3]), layerName: "c", options: options)) {
            XCTAssertEqual(($0 as! CNNVizError).code, .invalidArgument)
        }
    }

    /// Channel c of a [1, 5, 2, 3] map holds m_c + (0, 1, 2, 3, 4, 5)·s_c, so its mean is
    /// m_c + 2.5·s_c; means 4.5, 12.5, 4.5, −1.5 and 30 (constant) sort to channels 4, 1, 0, 2, 3,
    /// the tie 0/2 broken by id. Each tile's own min-max makes the activations 0, 0.2, …, 1,
    /// drawn as viridis[round(255·k/5)]; the constant channel is viridis[0].
    func testFeatureMapsAreSortedByMeanAndTiled() throws {
        let offsets: [Float] = [2, 10, -3, 1, 30], steps: [Float] = [1, 1, 3, -1, 0]
        var values: [Float] = []
        for channel in 0..<5 { for k in 0..<6 { values.append(offsets[channel] + Float(k) * steps[channel]) } }
        let activations = Tensor(shape: [1, 5, 2, 3], floats: values)
        var options = FeatureMapGrid.Options()
        options.scale = 5
        options.maximumChannels = 4
        let grid = try FeatureMapGrid(activations: activations, layerName: "fire2/concat", options: options)
        XCTAssertEqual(grid.channels, [4, 1, 0, 2])
        XCTAssertEqual(grid.means, [30, 12.5, 4.5, 4.5])
        XCTAssertTrue(grid.title.hasPrefix("fire2/concat  [1, 5, 2, 3]"), grid.title)
        XCTAssertEqual(grid.layout, GridLayout(count: 4, columns: 2, tileWidth: 15, tileHeight: 10, spacing: 2, margin: 8,
                                               headerHeight: 22, labelHeight: 14))
        let image = try grid.picture.renderedRGB()
        for (tile, channel) in grid.channels.enumerated() {
            for k in 0..<6 {
                let expected: RGBColor
                if steps[channel] == 0 {
                    expected = Colormap.viridis.color(atIndex: 0)
                } else {
                    let rank = steps[channel] > 0 ? k : 5 - k
                    expected = Colormap.viridis.color(atIndex: Int((255 * Double(rank) / 5).rounded()))
                }
                XCTAssertEqual(color(image, grid.layout, tile: tile, row: k / 3, column: k % 3, scale: 5), expected,
                               "tile \(tile) (channel \(channel)) activation \(k)")
                assertUniformBlock(image, grid.layout, tile: tile, row: k / 3, column: k % 3, scale: 5)
            }
        }
        // Unsorted keeps the channel order; the second batch item is its own.
        options.sortedByMean = false
        options.maximumChannels = nil
        XCTAssertEqual(try FeatureMapGrid(activations: activations, layerName: "x", options: options).channels, [0, 1, 2, 3, 4])
        let batch = Tensor(shape: [2, 2, 1, 1], floats: [1, 2, 5, 3])
        options.sortedByMean = true
        options.batchIndex = 1
        XCTAssertEqual(try FeatureMapGrid(activations: batch, layerName: "x", options: options).channels, [0, 1])
        options.batchIndex = 2
        XCTAssertThrowsError(try FeatureMapGrid(activations: batch, layerName: "x", options: options))
    }

    func testAutomaticScaleKeepsSmallKernelsVisible() throws {
        let grid = try FilterGrid(weights: Tensor(shape: [1, 1, 3, 3], floats: (0..<9).map { Float($0) }), layerName: "c")
        XCTAssertEqual(grid.scale, 11)
        XCTAssertEqual(grid.layout.tileWidth, 33)
        let image = try grid.picture.renderedRGB()
        for tap in 0..<9 { assertUniformBlock(image, grid.layout, tile: 0, row: tap / 3, column: tap % 3, scale: 11) }
    }
}
