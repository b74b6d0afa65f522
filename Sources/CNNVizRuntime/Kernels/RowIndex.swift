/// The multi-index of the outer axes (all but the last) of a row-major array, walked row by row.
///
/// Kernels that loop over the innermost axis use it to find each row's offsets in operands of
/// other layouts (broadcast, transposed, padded) without dividing per row.
struct RowIndex {
    let outerShape: [Int]
    private(set) var values: [Int]

    /// The index of row `row` of an array of `shape`.
    init(shape: [Int], row: Int) {
        outerShape = Array(shape.dropLast())
        values = [Int](repeating: 0, count: outerShape.count)
        var rest = row
        for axis in stride(from: outerShape.count - 1, through: 0, by: -1) {
            values[axis] = rest % outerShape[axis]
            rest /= outerShape[axis]
        }
    }

    subscript(axis: Int) -> Int { values[axis] }

    /// Moves to the next row (odometer order, last outer axis fastest).
    mutating func advance() {
        Shape.advance(&values, in: outerShape)
    }
}
