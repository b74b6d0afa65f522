import Foundation

/// com.microsoft QLinearGlobalAveragePool and QLinearAveragePool, inputs (X, X_scale,
/// X_zero_point, Y_scale, Y_zero_point), NCHW or, with `channels_last`, NHWC.
///
/// Global (and any average pool whose unpadded window is the whole plane), in integers as
/// onnxruntime: acc = Σx − z_X · N over the N positions, multiplier s_X / (s_Y · N) in Float32,
/// then requantized (`QuantizedArithmetic.round`).
/// Windowed: each element dequantized, s_X · (x − z_X), summed in Float32 from 0 rows then
/// columns, divided by the count (kh · kw with `count_include_pad`, else the window's cells
/// inside the image), then q = round(y / s_Y + z_Y). Pitfall: here the zero point is added
/// before rounding, unlike QuantizeLinear; padded cells add nothing even with
/// count_include_pad, only the count grows.
struct QLinearPool: Operator {
    let global: Bool
    let channelsLast: Bool
    let attributes: WindowGeometry.Attributes?
    let countIncludePad: Bool

    init(node: Node, global: Bool) throws {
        self.global = global
        channelsLast = try node.int("channels_last", default: 0) != 0
        attributes = global ? nil : try WindowGeometry.Attributes(node: node)
        countIncludePad = try node.int("count_include_pad", default: 0) != 0
        if !global, attributes?.kernel == nil {
            throw CNNVizError(.invalidAttribute, "QLinearAveragePool needs kernel_shape", location: node.location)
        }
    }

    func forward(_ inputs: [Tensor?]) throws -> [Tensor] {
        let name = global ? "QLinearGlobalAveragePool" : "QLinearAveragePool"
        let given = try inputs.required(0, "X")
        guard given.rank == 4, given.elementType.isInteger else {
            throw CNNVizError(.shapeMismatch, "\(name) takes a 4-D uint8 or int8 tensor, found \(given.elementType) \(given.shape)")
        }
        let input = try QuantizedParameters(inputs, scale: 1, zero: 2, op: name, defaultType: given.elementType)
        let output = try QuantizedParameters(inputs, scale: 3, zero: 4, op: name, defaultType: given.elementType)
        let x = channelsLast ? try Transpose(permutation: [0, 3, 1, 2]).forward([given])[0] : given
        let (planes, height, width) = (x.shape[0] * x.shape[1], x.shape[2], x.shape[3])
        var geometry: WindowGeometry?
        if let attributes {
            let window = try WindowGeometry(input: [height, width], kernel: attributes.kernel!, attributes: attributes)
            let wholePlane = window.kernel == [height, width] && (window.padsBegin + window.padsEnd).allSatisfy { $0 == 0 }
            geometry = wholePlane ? nil : window
        }
        let values = x.integers, range = output.type.integerRange
        var result = [Int64]()
        if let g = geometry {
            let (oh, ow) = (g.output[0], g.output[1])
            result.reserveCapacity(planes * oh * ow)
            for p in 0..<planes {
                let plane = p * height * width
                for oy in 0..<oh {
                    let top = oy * g.strides[0] - g.padsBegin[0]
                    let (y0, y1) = (max(top, 0), min(top + g.kernel[0], height))
                    for ox in 0..<ow {
                        let left = ox * g.strides[1] - g.padsBegin[1]
                        let (x0, x1) = (max(left, 0), min(left + g.kernel[1], width))
                        var sum: Float = 0
                        for yy in y0..<max(y0, y1) {
                            for xx in x0..<max(x0, x1) {
                                sum += QuantizedArithmetic.dequantize(values[plane + yy * width + xx], scale: input.scale, zero: input.zero)
                            }
                        }
                        let count = countIncludePad ? g.kernel[0] * g.kernel[1] : max(0, y1 - y0) * max(0, x1 - x0)
                        let mean = sum / Float(max(count, 1))
                        result.append(QuantizedArithmetic.round(mean / output.scale + Float(output.zero), zero: 0, range: range))
                    }
                }
            }
        } else {
            let count = height * width
            guard count < 1 << 24 else { throw CNNVizError(.shapeMismatch, "\(name) over \(count) positions: more than 2²⁴") }
            let multiplier = input.scale / (output.scale * Float(count))
            result = (0..<planes).map { p in
                let sum = values[(p * count)..<((p + 1) * count)].reduce(0, +) - input.zero * Int64(count)
                return QuantizedArithmetic.round(Float(sum) * multiplier, zero: output.zero, range: range)
            }
        }
        let (oh, ow) = geometry.map { ($0.output[0], $0.output[1]) } ?? (1, 1)
        let pooled = Tensor(shape: [x.shape[0], x.shape[1], oh, ow], integers: result, elementType: output.type)
        return [channelsLast ? try Transpose(permutation: [0, 2, 3, 1]).forward([pooled])[0] : pooled]
    }
}

extension Transpose {
    init(permutation: [Int]) { self.permutation = permutation }
}
