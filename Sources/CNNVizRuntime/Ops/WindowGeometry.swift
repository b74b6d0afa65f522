/// The sliding-window arithmetic shared by Conv and pooling, per spatial axis.
///
/// Output size with explicit pads: ⌊(in + pad_begin + pad_end − ((k − 1)·d + 1)) / s⌋ + 1,
/// or ⌈…⌉ + 1 with ceil_mode. Pitfall (ceil_mode): a last window that would start inside
/// the end padding is dropped, as PyTorch and onnxruntime do.
/// `auto_pad` SAME_UPPER/SAME_LOWER give out = ⌈in / s⌉ and split the total padding with the
/// odd pixel at the end (UPPER) or the beginning (LOWER); VALID means no padding.
struct WindowGeometry: Equatable {
    var input: [Int]
    var kernel: [Int]
    var strides: [Int]
    var dilations: [Int]
    var padsBegin: [Int]
    var padsEnd: [Int]
    var output: [Int]

    /// Parameters read from a Conv or pool node; the spatial input shape comes at run time.
    struct Attributes {
        var kernel: [Int]?
        var strides: [Int]?
        var dilations: [Int]?
        var pads: [Int]?
        var autoPad: String
        var ceilMode: Bool

        init(node: Node) throws {
            kernel = try node.ints("kernel_shape")
            strides = try node.ints("strides")
            dilations = try node.ints("dilations")
            pads = try node.ints("pads")
            autoPad = try node.string("auto_pad", default: "NOTSET")
            ceilMode = try node.int("ceil_mode", default: 0) != 0
            guard ["NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"].contains(autoPad) else {
                throw CNNVizError(.invalidAttribute, "auto_pad must be NOTSET, VALID, SAME_UPPER or SAME_LOWER, found '\(autoPad)'",
                                  location: node.location)
            }
        }
    }

    init(input: [Int], kernel: [Int], attributes: Attributes) throws {
        let rank = input.count
        let strides = attributes.strides ?? [Int](repeating: 1, count: rank)
        let dilations = attributes.dilations ?? [Int](repeating: 1, count: rank)
        let pads = attributes.pads ?? [Int](repeating: 0, count: 2 * rank)
        guard kernel.count == rank, strides.count == rank, dilations.count == rank, pads.count == 2 * rank else {
            throw CNNVizError(.shapeMismatch,
                              "window attributes do not match \(rank) spatial dims: kernel \(kernel), strides \(strides), dilations \(dilations), pads \(pads)")
        }
        guard strides.allSatisfy({ $0 > 0 && $0 <= 1 << 20 }), dilations.allSatisfy({ $0 > 0 && $0 <= 1 << 20 }),
              kernel.allSatisfy({ $0 > 0 && $0 <= 1 << 20 }) else {
            throw CNNVizError(.invalidAttribute, "kernel, strides and dilations must be positive: \(kernel), \(strides), \(dilations)")
        }
        guard pads.allSatisfy({ $0 >= 0 && $0 <= 1 << 20 }) else {
            throw CNNVizError(.invalidAttribute, "pads must be ≥ 0, found \(pads)")
        }
        self.input = input
        self.kernel = kernel
        self.strides = strides
        self.dilations = dilations
        var begin = Array(pads[0..<rank]), end = Array(pads[rank...])
        var output = [Int](repeating: 0, count: rank)
        for axis in 0..<rank {
            let extent = (kernel[axis] - 1) * dilations[axis] + 1
            switch attributes.autoPad {
            case "SAME_UPPER", "SAME_LOWER":
                output[axis] = (input[axis] + strides[axis] - 1) / strides[axis]
                let total = max(0, (output[axis] - 1) * strides[axis] + extent - input[axis])
                let small = total / 2, large = total - small
                (begin[axis], end[axis]) = attributes.autoPad == "SAME_UPPER" ? (small, large) : (large, small)
            case "VALID":
                begin[axis] = 0
                end[axis] = 0
                output[axis] = (input[axis] - extent) / strides[axis] + 1
                if input[axis] < extent { output[axis] = 0 }
            default:
                let span = input[axis] + begin[axis] + end[axis] - extent
                if span < 0 {
                    output[axis] = 0
                } else if attributes.ceilMode {
                    output[axis] = (span + strides[axis] - 1) / strides[axis] + 1
                    if (output[axis] - 1) * strides[axis] >= input[axis] + begin[axis] { output[axis] -= 1 }
                } else {
                    output[axis] = span / strides[axis] + 1
                }
            }
        }
        guard output.allSatisfy({ $0 > 0 }) else {
            throw CNNVizError(.shapeMismatch,
                              "the window \(kernel) (dilations \(dilations), pads \(begin)/\(end)) does not fit the input \(input)")
        }
        // Pads of up to 2²⁰ per side make an output plane of up to 2⁴² positions: the same
        // element limit as every allocation, before one is made.
        _ = try Shape.checkedCount(output)
        self.padsBegin = begin
        self.padsEnd = end
        self.output = output
    }

    /// A 2-D window as named scalars for the kernels, in the order
    /// (input height, width, output height, width, kernel height, width, strides, dilations, leading pads).
    var planar: (h: Int, w: Int, oh: Int, ow: Int, kh: Int, kw: Int, sh: Int, sw: Int, dh: Int, dw: Int, ph: Int, pw: Int) {
        precondition(input.count == 2, "planar geometry of a \(input.count)-D window")
        return (input[0], input[1], output[0], output[1], kernel[0], kernel[1], strides[0], strides[1],
                dilations[0], dilations[1], padsBegin[0], padsBegin[1])
    }

    /// True when the window maps input pixels one to one (1×1, stride 1, no padding).
    var isPointwise: Bool {
        kernel.allSatisfy { $0 == 1 } && strides.allSatisfy { $0 == 1 } && padsBegin.allSatisfy { $0 == 0 }
            && padsEnd.allSatisfy { $0 == 0 }
    }
}
