/// Size: the element count of the input, an int64 scalar.
struct Size: Operator {
    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        [Tensor(shape: [], integers: [Int64(try inputs.required(0, "data").count)])]
    }
}
