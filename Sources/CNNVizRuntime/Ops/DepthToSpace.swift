/// DepthToSpace and SpaceToDepth, inverse rearrangements of [N, C, H, W] with block size b.
///
/// DepthToSpace: [N, C, H, W] → [N, C/b², H·b, W·b]. Mode DCR (default) reads the channel as
/// (bh, bw, c'), mode CRD as (c', bh, bw). SpaceToDepth: [N, C, H, W] → [N, C·b², H/b, W/b],
/// channel (bh, bw, c). Pure permutations: backward is `ElementCopying`'s adjoint.
struct DepthToSpace: ElementCopying {
    let blockSize: Int
    let toSpace: Bool
    let columnRowDepth: Bool

    init(node: Node, toSpace: Bool) throws {
        blockSize = try node.int("blocksize", default: 0)
        guard blockSize > 0 else { throw CNNVizError(.invalidAttribute, "blocksize must be positive, found \(blockSize)") }
        self.toSpace = toSpace
        let mode = try node.string("mode", default: "DCR")
        columnRowDepth = toSpace && mode == "CRD"
    }

    func sources(_ shape: [Int], _ inputs: [Tensor?]) throws -> (source: [Int], shape: [Int]) {
        let b = blockSize
        guard shape.count == 4 else { throw CNNVizError(.shapeMismatch, "input must be [N, C, H, W], found \(shape)") }
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        if toSpace {
            guard c % (b * b) == 0 else { throw CNNVizError(.shapeMismatch, "channels \(c) are not divisible by blocksize² = \(b * b)") }
            let c2 = c / (b * b)
            var source = [Int]()
            for ni in 0..<n { for ci in 0..<c2 { for y in 0..<(h * b) { for x in 0..<(w * b) {
                let (bh, bw) = (y % b, x % b)
                let channel = columnRowDepth ? (ci * b + bh) * b + bw : (bh * b + bw) * c2 + ci
                source.append(((ni * c + channel) * h + y / b) * w + x / b)
            } } } }
            return (source, [n, c2, h * b, w * b])
        }
        guard h % b == 0, w % b == 0 else { throw CNNVizError(.shapeMismatch, "H and W (\(h), \(w)) are not divisible by blocksize \(b)") }
        var source = [Int]()
        for ni in 0..<n { for channel in 0..<(c * b * b) { for y in 0..<(h / b) { for x in 0..<(w / b) {
            let ci = channel % c, bw = (channel / c) % b, bh = channel / (c * b)
            source.append(((ni * c + ci) * h + y * b + bh) * w + x * b + bw)
        } } } }
        return (source, [n, c * b * b, h / b, w / b])
    }
}
