import CDNNLShim
import Foundation

/// A 2-D convolution run by oneDNN: a primitive made for one problem (shapes, geometry, groups,
/// fused clamp), its weights already in the layout oneDNN chose for this CPU.
///
/// oneDNN picks its kernels at run time (AVX2, AVX-512, …; `DNNL_MAX_CPU_ISA` caps it), so the
/// same binary runs at each machine's peak. Activations cross in NCHW and are reordered to
/// the primitive's blocked layout and back inside `run`.
/// Pitfall: making a primitive costs 0.2–0.8 ms and reorders the weights; `Conv` keeps one per
/// session and problem in its `DerivedWeights`, so that cost is paid once, not per call.
final class DNNLConvolution: @unchecked Sendable {
    private let handle: OpaquePointer
    /// oneDNN's name for the kernel it chose, e.g. "jit:avx2".
    let implementation: String

    /// Whether oneDNN runs a convolution: `CNNVIZ_ENGINE=dnnl` or `swift` decides for every
    /// convolution; by default oneDNN runs the dense and grouped convs with a kernel larger than
    /// 1×1 on CPUs where it dispatches AVX-512, and cnn-viz's own kernels run the rest.
    ///
    /// Measured on AVX2 (Zen 3, 2 cores, forward ms, oneDNN / own kernels): ResNet-18 24.5 / 24.6,
    /// ResNet-50 58.2 / 56.1, MobileNetV2 9.4 / 7.0, SqueezeNet 6.9 / 6.5, VGG-16 234 / 168 —
    /// Winograd beats oneDNN's direct AVX2 kernels, and the NCHW reorders around each oneDNN
    /// call cost most on depthwise and 1×1 layers. On AVX-512 oneDNN's kernels run at 85–100% of
    /// the cores' peak, twice the AVX2 ceiling of the own kernels.
    static func runs(depthwise: Bool, pointwise: Bool) -> Bool {
        switch engineOverride {
        case "dnnl"?: return true
        case "swift"?: return false
        default: return hasAVX512 && !depthwise && !pointwise
        }
    }

    private static let engineOverride = ProcessInfo.processInfo.environment["CNNVIZ_ENGINE"]
    private static let hasAVX512 = isa.hasPrefix("avx512")

    /// oneDNN's OpenMP thread count.
    static func setThreads(_ count: Int) { cnnviz_dnnl_set_threads(Int32(count)) }

    /// The instruction set oneDNN dispatches to on this CPU, and its version.
    static var isa: String { String(cString: cnnviz_dnnl_isa()) }
    static var version: String { String(cString: cnnviz_dnnl_version()) }

    init(batch: Int, inChannels: Int, outChannels: Int, group: Int, geometry: WindowGeometry, clamp: Conv.Clamp,
         weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?) throws {
        var shape = cnnviz_conv_shape(
            batch: Int64(batch), in_channels: Int64(inChannels), in_height: Int64(geometry.input[0]), in_width: Int64(geometry.input[1]),
            out_channels: Int64(outChannels), out_height: Int64(geometry.output[0]), out_width: Int64(geometry.output[1]),
            kernel_height: Int64(geometry.kernel[0]), kernel_width: Int64(geometry.kernel[1]),
            stride_height: Int64(geometry.strides[0]), stride_width: Int64(geometry.strides[1]),
            dilation_height: Int64(geometry.dilations[0]), dilation_width: Int64(geometry.dilations[1]),
            pad_top: Int64(geometry.padsBegin[0]), pad_left: Int64(geometry.padsBegin[1]),
            pad_bottom: Int64(geometry.padsEnd[0]), pad_right: Int64(geometry.padsEnd[1]),
            groups: Int64(group), has_bias: bias == nil ? 0 : 1, clamp_low: clamp.low, clamp_high: clamp.high)
        var message = [CChar](repeating: 0, count: 256)
        guard let made = cnnviz_conv_create(&shape, weights, bias, &message, message.count) else {
            throw CNNVizError(.engineFailure, "\(String(cString: message)) for a Conv of input [\(batch), \(inChannels), \(geometry.input[0]), \(geometry.input[1])] and \(outChannels) outputs")
        }
        handle = made
        implementation = String(cString: cnnviz_conv_implementation(made))
    }

    deinit { cnnviz_conv_destroy(handle) }

    /// y (NCHW) = the convolution of x (NCHW), bias and clamp included.
    func run(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) throws {
        var message = [CChar](repeating: 0, count: 256)
        guard cnnviz_conv_execute(handle, x, y, &message, message.count) == 0 else {
            throw CNNVizError(.engineFailure, String(cString: message))
        }
    }
}
