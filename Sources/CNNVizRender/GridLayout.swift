/// Where the tiles of a grid go, in pixels, in closed form.
///
///     tile i:  column c = i mod columns, row r = i div columns
///              x = margin + c·(tileWidth + spacing)
///              y = margin + headerHeight + r·(tileHeight + labelHeight + spacing)
///     width  = 2·margin + columns·tileWidth + (columns − 1)·spacing   (at least the header's text)
///     height = 2·margin + headerHeight + rows·(tileHeight + labelHeight) + (rows − 1)·spacing
///
/// A tile's label, if any, is centred in the `labelHeight` band right under the tile.
public struct GridLayout: Sendable, Equatable {
    public var count: Int
    public var columns: Int
    /// A tile's size after nearest-neighbour scaling.
    public var tileWidth: Int
    public var tileHeight: Int
    public var spacing: Int
    public var margin: Int
    /// The title band at the top (0 for none).
    public var headerHeight: Int
    /// The band under each tile for its label (0 for none).
    public var labelHeight: Int

    public init(count: Int, columns: Int, tileWidth: Int, tileHeight: Int, spacing: Int, margin: Int,
                headerHeight: Int, labelHeight: Int) {
        precondition(count >= 0 && columns >= 1, "a grid of \(count) tiles in \(columns) columns")
        self.count = count
        self.columns = columns
        self.tileWidth = tileWidth
        self.tileHeight = tileHeight
        self.spacing = spacing
        self.margin = margin
        self.headerHeight = headerHeight
        self.labelHeight = labelHeight
    }

    public var rows: Int { (count + columns - 1) / columns }

    /// The grid's own width and height (the picture may be wider, to fit its title).
    public var width: Int { 2 * margin + columns * tileWidth + max(columns - 1, 0) * spacing }
    public var height: Int { 2 * margin + headerHeight + rows * (tileHeight + labelHeight) + max(rows - 1, 0) * spacing }

    /// The top-left corner of tile `index`.
    public func origin(ofTile index: Int) -> (x: Int, y: Int) {
        precondition(index >= 0 && index < count, "tile \(index) of \(count)")
        let column = index % columns, row = index / columns
        return (margin + column * (tileWidth + spacing),
                margin + headerHeight + row * (tileHeight + labelHeight + spacing))
    }

    /// The square-ish column count for `count` tiles: ⌈√count⌉.
    public static func defaultColumns(for count: Int) -> Int {
        var columns = 1
        while columns * columns < count { columns += 1 }
        return columns
    }

    /// The nearest-neighbour scale that makes a side of `side` pixels at least `minimum`
    /// pixels: ⌈minimum / side⌉, and never less than 1.
    public static func scale(forSide side: Int, minimum: Int) -> Int {
        guard side > 0 else { return 1 }
        return max(1, (minimum + side - 1) / side)
    }
}
