// oneDNN 2.x behind DNNLShim.h. See the header for the contract.
#define _GNU_SOURCE
#include "DNNLShim.h"

#include <sched.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "DNNLLibrary.h"

static dnnl_engine_t shared_engine;
static dnnl_stream_t shared_stream;
static dnnl_status_t engine_status = dnnl_runtime_error;
static pthread_once_t engine_once = PTHREAD_ONCE_INIT;

static void make_engine(void) {
    if (cnnviz_dnnl_load()) return;
    engine_status = dnnl_engine_create(&shared_engine, dnnl_cpu, 0);
    if (engine_status == dnnl_success) engine_status = dnnl_stream_create(&shared_stream, shared_engine, dnnl_stream_default_flags);
}

static const char *status_name(dnnl_status_t status) {
    switch (status) {
    case dnnl_success: return "success";
    case dnnl_out_of_memory: return "out of memory";
    case dnnl_invalid_arguments: return "invalid arguments";
    case dnnl_unimplemented: return "unimplemented";
    case dnnl_iterator_ends: return "iterator ends";
    case dnnl_runtime_error: return "runtime error";
    case dnnl_not_required: return "not required";
    default: return "unknown status";
    }
}

#define CHECK(call, what)                                                                        \
    do {                                                                                         \
        dnnl_status_t status_ = (call);                                                          \
        if (status_ != dnnl_success) {                                                           \
            if (error) snprintf(error, error_size, "oneDNN %s failed: %s", what, status_name(status_)); \
            goto fail;                                                                           \
        }                                                                                        \
    } while (0)

/// One edge of a primitive: the user's plain memory, the primitive's own, and the reorder
/// between them (NULL when the layouts agree and the user's memory is used directly).
typedef struct {
    dnnl_memory_t user;
    dnnl_memory_t internal;
    dnnl_primitive_t reorder;
} edge;

struct cnnviz_conv {
    pthread_mutex_t lock;
    dnnl_primitive_t primitive;
    dnnl_memory_t weights, bias;
    edge src, dst;
    char implementation[64];
};

static void destroy_edge(edge *e) {
    if (e->reorder) dnnl_primitive_destroy(e->reorder);
    if (e->internal && e->internal != e->user) dnnl_memory_destroy(e->internal);
    if (e->user) dnnl_memory_destroy(e->user);
    memset(e, 0, sizeof(*e));
}

/// An edge between the user's plain `user_md` and the primitive's `internal_md`; `into` is
/// whether data flows user → primitive (source) or primitive → user (destination).
static dnnl_status_t make_edge(edge *e, const dnnl_memory_desc_t *user_md, const dnnl_memory_desc_t *internal_md, int into) {
    dnnl_status_t status = dnnl_memory_create(&e->user, user_md, shared_engine, DNNL_MEMORY_NONE);
    if (status != dnnl_success) return status;
    if (dnnl_memory_desc_equal(user_md, internal_md)) {
        e->internal = e->user;
        return dnnl_success;
    }
    status = dnnl_memory_create(&e->internal, internal_md, shared_engine, DNNL_MEMORY_ALLOCATE);
    if (status != dnnl_success) return status;
    dnnl_primitive_desc_t reorder_pd;
    status = into ? dnnl_reorder_primitive_desc_create(&reorder_pd, user_md, shared_engine, internal_md, shared_engine, NULL)
                  : dnnl_reorder_primitive_desc_create(&reorder_pd, internal_md, shared_engine, user_md, shared_engine, NULL);
    if (status != dnnl_success) return status;
    status = dnnl_primitive_create(&e->reorder, reorder_pd);
    dnnl_primitive_desc_destroy(reorder_pd);
    return status;
}

static dnnl_status_t run_reorder(dnnl_primitive_t reorder, dnnl_memory_t from, dnnl_memory_t to) {
    dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to}};
    return dnnl_primitive_execute(reorder, shared_stream, 2, args);
}

/// The fused activation as an eltwise post-op: ReLU, or clip for a finite bound.
static dnnl_status_t clamp_attributes(dnnl_primitive_attr_t attributes, float low, float high) {
    if (isinf(low) && low < 0 && isinf(high)) return dnnl_success;
    dnnl_post_ops_t post_ops;
    dnnl_status_t status = dnnl_post_ops_create(&post_ops);
    if (status != dnnl_success) return status;
    if (low == 0 && isinf(high)) {
        status = dnnl_post_ops_append_eltwise(post_ops, 1.0f, dnnl_eltwise_relu, 0.0f, 0.0f);
    } else {
        status = dnnl_post_ops_append_eltwise(post_ops, 1.0f, dnnl_eltwise_clip_v2, isinf(low) ? -INFINITY : low, isinf(high) ? INFINITY : high);
    }
    if (status == dnnl_success) status = dnnl_primitive_attr_set_post_ops(attributes, post_ops);
    dnnl_post_ops_destroy(post_ops);
    return status;
}

cnnviz_conv *cnnviz_conv_create(const cnnviz_conv_shape *s, const float *weights, const float *bias, char *error, size_t error_size) {
    pthread_once(&engine_once, make_engine);
    if (engine_status != dnnl_success) {
        const char *unloaded = cnnviz_dnnl_load();
        if (error && unloaded) snprintf(error, error_size, "%s", unloaded);
        else if (error) snprintf(error, error_size, "oneDNN engine creation failed: %s", status_name(engine_status));
        return NULL;
    }
    cnnviz_conv *conv = calloc(1, sizeof(cnnviz_conv));
    if (!conv) {
        if (error) snprintf(error, error_size, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&conv->lock, NULL);
    dnnl_primitive_attr_t attributes = NULL;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_memory_t user_weights = NULL;
    dnnl_primitive_t weight_reorder = NULL;

    dnnl_dims_t src_dims = {s->batch, s->in_channels, s->in_height, s->in_width};
    dnnl_dims_t dst_dims = {s->batch, s->out_channels, s->out_height, s->out_width};
    dnnl_dims_t bias_dims = {s->out_channels};
    dnnl_dims_t strides = {s->stride_height, s->stride_width};
    dnnl_dims_t dilations = {s->dilation_height - 1, s->dilation_width - 1};
    dnnl_dims_t pad_l = {s->pad_top, s->pad_left}, pad_r = {s->pad_bottom, s->pad_right};
    int grouped = s->groups > 1;
    dnnl_dims_t weight_dims;
    if (grouped) {
        dnnl_dims_t g = {s->groups, s->out_channels / s->groups, s->in_channels / s->groups, s->kernel_height, s->kernel_width};
        memcpy(weight_dims, g, sizeof(g));
    } else {
        dnnl_dims_t d = {s->out_channels, s->in_channels, s->kernel_height, s->kernel_width};
        memcpy(weight_dims, d, sizeof(d));
    }
    dnnl_memory_desc_t src_user, dst_user, weights_user, bias_md, src_any, dst_any, weights_any;
    CHECK(dnnl_memory_desc_init_by_tag(&src_user, 4, src_dims, dnnl_f32, dnnl_nchw), "source descriptor");
    CHECK(dnnl_memory_desc_init_by_tag(&dst_user, 4, dst_dims, dnnl_f32, dnnl_nchw), "destination descriptor");
    CHECK(dnnl_memory_desc_init_by_tag(&weights_user, grouped ? 5 : 4, weight_dims, dnnl_f32, grouped ? dnnl_goihw : dnnl_oihw), "weights descriptor");
    CHECK(dnnl_memory_desc_init_by_tag(&bias_md, 1, bias_dims, dnnl_f32, dnnl_x), "bias descriptor");
    CHECK(dnnl_memory_desc_init_by_tag(&src_any, 4, src_dims, dnnl_f32, dnnl_format_tag_any), "source descriptor");
    CHECK(dnnl_memory_desc_init_by_tag(&dst_any, 4, dst_dims, dnnl_f32, dnnl_format_tag_any), "destination descriptor");
    CHECK(dnnl_memory_desc_init_by_tag(&weights_any, grouped ? 5 : 4, weight_dims, dnnl_f32, dnnl_format_tag_any), "weights descriptor");

    dnnl_convolution_desc_t desc;
    CHECK(dnnl_dilated_convolution_forward_desc_init(&desc, dnnl_forward_inference, dnnl_convolution_direct, &src_any, &weights_any,
                                                     s->has_bias ? &bias_md : NULL, &dst_any, strides, dilations, pad_l, pad_r),
          "convolution descriptor");
    CHECK(dnnl_primitive_attr_create(&attributes), "attributes");
    CHECK(clamp_attributes(attributes, s->clamp_low, s->clamp_high), "post-op");
    CHECK(dnnl_primitive_desc_create(&pd, &desc, attributes, shared_engine, NULL), "convolution primitive descriptor");
    const char *implementation = NULL;
    if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &implementation) == dnnl_success && implementation) {
        snprintf(conv->implementation, sizeof(conv->implementation), "%s", implementation);
    }
    CHECK(dnnl_primitive_create(&conv->primitive, pd), "convolution primitive");
    CHECK(make_edge(&conv->src, &src_user, dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0), 1), "source layout");
    CHECK(make_edge(&conv->dst, &dst_user, dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0), 0), "destination layout");

    // The weights, reordered once into the primitive's layout.
    const dnnl_memory_desc_t *weights_internal = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    CHECK(dnnl_memory_create(&conv->weights, weights_internal, shared_engine, DNNL_MEMORY_ALLOCATE), "weights memory");
    CHECK(dnnl_memory_create(&user_weights, &weights_user, shared_engine, (void *)weights), "weights memory");
    if (dnnl_memory_desc_equal(&weights_user, weights_internal)) {
        void *handle = NULL;
        CHECK(dnnl_memory_get_data_handle(conv->weights, &handle), "weights copy");
        memcpy(handle, weights, dnnl_memory_desc_get_size(&weights_user));
    } else {
        dnnl_primitive_desc_t reorder_pd;
        CHECK(dnnl_reorder_primitive_desc_create(&reorder_pd, &weights_user, shared_engine, weights_internal, shared_engine, NULL),
              "weights reorder");
        dnnl_status_t status = dnnl_primitive_create(&weight_reorder, reorder_pd);
        dnnl_primitive_desc_destroy(reorder_pd);
        CHECK(status, "weights reorder");
        CHECK(run_reorder(weight_reorder, user_weights, conv->weights), "weights reorder");
        CHECK(dnnl_stream_wait(shared_stream), "weights reorder");
    }
    if (s->has_bias) {
        CHECK(dnnl_memory_create(&conv->bias, &bias_md, shared_engine, DNNL_MEMORY_ALLOCATE), "bias memory");
        void *handle = NULL;
        CHECK(dnnl_memory_get_data_handle(conv->bias, &handle), "bias copy");
        memcpy(handle, bias, (size_t)s->out_channels * sizeof(float));
    }
    if (weight_reorder) dnnl_primitive_destroy(weight_reorder);
    dnnl_memory_destroy(user_weights);
    dnnl_primitive_desc_destroy(pd);
    dnnl_primitive_attr_destroy(attributes);
    return conv;

fail:
    if (weight_reorder) dnnl_primitive_destroy(weight_reorder);
    if (user_weights) dnnl_memory_destroy(user_weights);
    if (pd) dnnl_primitive_desc_destroy(pd);
    if (attributes) dnnl_primitive_attr_destroy(attributes);
    cnnviz_conv_destroy(conv);
    return NULL;
}

int cnnviz_conv_execute(cnnviz_conv *conv, const float *x, float *y, char *error, size_t error_size) {
    pthread_mutex_lock(&conv->lock);
    CHECK(dnnl_memory_set_data_handle(conv->src.user, (void *)x), "source handle");
    CHECK(dnnl_memory_set_data_handle(conv->dst.user, y), "destination handle");
    if (conv->src.reorder) CHECK(run_reorder(conv->src.reorder, conv->src.user, conv->src.internal), "source reorder");
    dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, conv->src.internal}, {DNNL_ARG_WEIGHTS, conv->weights}, {DNNL_ARG_DST, conv->dst.internal},
                               {DNNL_ARG_BIAS, conv->bias}};
    CHECK(dnnl_primitive_execute(conv->primitive, shared_stream, conv->bias ? 4 : 3, args), "convolution");
    if (conv->dst.reorder) CHECK(run_reorder(conv->dst.reorder, conv->dst.internal, conv->dst.user), "destination reorder");
    CHECK(dnnl_stream_wait(shared_stream), "stream wait");
    pthread_mutex_unlock(&conv->lock);
    return 0;
fail:
    pthread_mutex_unlock(&conv->lock);
    return 1;
}

void cnnviz_conv_destroy(cnnviz_conv *conv) {
    if (!conv) return;
    if (conv->primitive) dnnl_primitive_destroy(conv->primitive);
    if (conv->weights) dnnl_memory_destroy(conv->weights);
    if (conv->bias) dnnl_memory_destroy(conv->bias);
    destroy_edge(&conv->src);
    destroy_edge(&conv->dst);
    pthread_mutex_destroy(&conv->lock);
    free(conv);
}

const char *cnnviz_conv_implementation(const cnnviz_conv *conv) { return conv->implementation; }

const char *cnnviz_dnnl_isa(void) {
    if (cnnviz_dnnl_load()) return "none";
    switch (dnnl_get_effective_cpu_isa()) {
    case dnnl_cpu_isa_sse41: return "sse41";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx512_mic: return "avx512_mic";
    case dnnl_cpu_isa_avx512_mic_4ops: return "avx512_mic_4ops";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
    default: return "other";
    }
}

// Debian's oneDNN is built on OpenMP (libgomp); its thread count is OpenMP's.
void cnnviz_dnnl_set_threads(int count) {
    if (!cnnviz_dnnl_load() && cnnviz_omp_set_num_threads_pointer) cnnviz_omp_set_num_threads_pointer(count);
}

int cnnviz_available_cores(void) {
    cpu_set_t set;
    return sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 0;
}

const char *cnnviz_dnnl_version(void) {
    static char text[32];
    if (cnnviz_dnnl_load()) return "unavailable";
    const dnnl_version_t *version = dnnl_version();
    snprintf(text, sizeof(text), "%d.%d.%d", version->major, version->minor, version->patch);
    return text;
}
