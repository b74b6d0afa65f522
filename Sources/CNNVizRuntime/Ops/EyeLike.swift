/// EyeLike: a 2-D tensor of the input's shape with ones on the diagonal shifted by k
/// (k > 0 above it), of type `dtype` (default: the input's type).
struct EyeLike: Operator {
    let k: Int
    let dtype: ElementType?

    init(node: Node) throws {
        k = try node.int("k", default: 0)
        dtype = node.attributes["dtype"] == nil ? nil : ElementType(rawValue: try node.int("dtype", default: 1))
    }

    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let x = try inputs.required(0, "input")
        try x.expectRank(2...2, "EyeLike's input")
        let (rows, columns) = (x.shape[0], x.shape[1])
        let values = (0..<rows * columns).map { ($0 % columns) - ($0 / columns) == k ? Float(1) : 0 }
        let type = dtype ?? x.elementType
        return [type.isFloatingPoint ? Tensor(shape: x.shape, floats: values, elementType: type)
                    : Tensor(shape: x.shape, integers: values.map { Int64($0) }, elementType: type)]
    }
}
