// A thin C layer between cnn-viz and oneDNN's C API (2.x: operation descriptors). Everything
// that depends on oneDNN's version lives in DNNLShim.c, so a move to 3.x (primitive
// descriptors created directly) changes that file only.
//
// Tensors cross this boundary in plain row-major layouts (NCHW activations, OIHW weights); a
// primitive keeps its own layout inside (blocked, as oneDNN picks it for the CPU) and reorders
// at its edges. Every function reports failure by a non-zero status and a message.
#ifndef CNNVIZ_DNNL_SHIM_H
#define CNNVIZ_DNNL_SHIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// A 2-D convolution problem, NCHW in and out.
typedef struct {
    int64_t batch, in_channels, in_height, in_width;
    int64_t out_channels, out_height, out_width;
    int64_t kernel_height, kernel_width;
    int64_t stride_height, stride_width;
    /// ONNX dilations (1 = dense); the shim passes oneDNN's (dilation − 1).
    int64_t dilation_height, dilation_width;
    int64_t pad_top, pad_left, pad_bottom, pad_right;
    int64_t groups;
    int has_bias;
    /// An activation fused after the bias: y = min(max(y, low), high); ±INFINITY for none.
    float clamp_low, clamp_high;
} cnnviz_conv_shape;

typedef struct cnnviz_conv cnnviz_conv;

/// Creates the forward primitive and reorders `weights` (OIHW, or [M, C/G, kH, kW] with
/// groups) into its layout once. Returns NULL and fills `error` on failure.
cnnviz_conv *cnnviz_conv_create(const cnnviz_conv_shape *shape, const float *weights, const float *bias,
                                char *error, size_t error_size);

/// y (NCHW) = conv(x (NCHW)). Safe to call from one thread at a time per object.
int cnnviz_conv_execute(cnnviz_conv *conv, const float *x, float *y, char *error, size_t error_size);

void cnnviz_conv_destroy(cnnviz_conv *conv);

/// The implementation oneDNN chose, e.g. "brgconv:avx512_core" or "jit:avx2".
const char *cnnviz_conv_implementation(const cnnviz_conv *conv);

/// The instruction set oneDNN dispatches to on this CPU (after DNNL_MAX_CPU_ISA), e.g. "avx2";
/// "none" when libdnnl.so.2 can't be loaded (oneDNN is opened at first use: DNNLLibrary.c).
const char *cnnviz_dnnl_isa(void);

/// The threads oneDNN's kernels use (Debian's build runs them on OpenMP). The first call of
/// any function here loads oneDNN, and sets OMP_WAIT_POLICY=passive unless the environment
/// says otherwise.
void cnnviz_dnnl_set_threads(int count);

/// The CPUs in this process's affinity mask (taskset, container CPU sets); 0 if unknown.
int cnnviz_available_cores(void);

/// oneDNN's version, e.g. "2.6.3"; "unavailable" when it can't be loaded.
const char *cnnviz_dnnl_version(void);

#ifdef __cplusplus
}
#endif

#endif
