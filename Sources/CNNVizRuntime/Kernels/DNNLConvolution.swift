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

    /// Whether oneDNN runs the convolutions: only when `CNNVIZ_ENGINE=dnnl` says so; by default
    /// (or `CNNVIZ_ENGINE=swift`) cnn-viz's own kernels run every convolution.
    ///
    /// Measured forward ms, oneDNN (dense k>1) / own kernels, 2 threads:
    /// - AVX2 (Zen 3): ResNet-18 24.5 / 24.6, ResNet-50 58.2 / 56.1, MobileNetV2 9.4 / 7.0,
    ///   SqueezeNet 6.9 / 6.5, VGG-16 234 / 168;
    /// - AVX-512 (Xeon, Ice Lake): ResNet-18 32.9 / 28.5 at batch 1 and 478 / 360 at batch 16,
    ///   SqueezeNet 11.0 / 7.7, and a 16-image `visualize` step's model time 282 / 234.
    /// Winograd beats oneDNN's direct kernels, and the NCHW reorders around each oneDNN call
    /// (one primitive per image, for batch-invariant results) cost more than its kernels gain.
    static let isChosen = ProcessInfo.processInfo.environment["CNNVIZ_ENGINE"] == "dnnl"

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
        WorkerPool.shared.sleepHelpers()
        var message = [CChar](repeating: 0, count: 256)
        guard cnnviz_conv_execute(handle, x, y, &message, message.count) == 0 else {
            throw CNNVizError(.engineFailure, String(cString: message))
        }
    }
}
