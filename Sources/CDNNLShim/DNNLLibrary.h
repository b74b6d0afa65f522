// oneDNN reached through dlopen, not linked: the functions DNNLShim.c calls, as pointers that
// cnnviz_dnnl_load() fills. See DNNLLibrary.c for why.
#ifndef CNNVIZ_DNNL_LIBRARY_H
#define CNNVIZ_DNNL_LIBRARY_H

#include <oneapi/dnnl/dnnl.h>

#define CNNVIZ_DNNL_FUNCTIONS(X)                                                                               \
    X(dnnl_dilated_convolution_forward_desc_init) X(dnnl_engine_create) X(dnnl_get_effective_cpu_isa)          \
    X(dnnl_memory_create) X(dnnl_memory_desc_equal) X(dnnl_memory_desc_get_size)                               \
    X(dnnl_memory_desc_init_by_tag) X(dnnl_memory_destroy) X(dnnl_memory_get_data_handle)                      \
    X(dnnl_memory_set_data_handle) X(dnnl_post_ops_append_eltwise) X(dnnl_post_ops_create)                     \
    X(dnnl_post_ops_destroy) X(dnnl_primitive_attr_create) X(dnnl_primitive_attr_destroy)                     \
    X(dnnl_primitive_attr_set_post_ops) X(dnnl_primitive_create) X(dnnl_primitive_desc_create)                 \
    X(dnnl_primitive_desc_destroy) X(dnnl_primitive_desc_query) X(dnnl_primitive_desc_query_md)                \
    X(dnnl_primitive_destroy) X(dnnl_primitive_execute) X(dnnl_reorder_primitive_desc_create)                  \
    X(dnnl_stream_create) X(dnnl_stream_wait) X(dnnl_version)

#define CNNVIZ_DNNL_DECLARE_POINTER(name) extern __typeof__(&name) name##_pointer;
CNNVIZ_DNNL_FUNCTIONS(CNNVIZ_DNNL_DECLARE_POINTER)

/// OpenMP's omp_set_num_threads from the libgomp that oneDNN brought in.
extern void (*cnnviz_omp_set_num_threads_pointer)(int);

/// Loads oneDNN once (thread-safe); NULL when it is ready, else why it is not.
const char *cnnviz_dnnl_load(void);

// Below, every call of a dnnl_ function in the including file goes through its pointer.
#ifndef CNNVIZ_DNNL_LIBRARY_DEFINITIONS
#define dnnl_dilated_convolution_forward_desc_init (*dnnl_dilated_convolution_forward_desc_init_pointer)
#define dnnl_engine_create (*dnnl_engine_create_pointer)
#define dnnl_get_effective_cpu_isa (*dnnl_get_effective_cpu_isa_pointer)
#define dnnl_memory_create (*dnnl_memory_create_pointer)
#define dnnl_memory_desc_equal (*dnnl_memory_desc_equal_pointer)
#define dnnl_memory_desc_get_size (*dnnl_memory_desc_get_size_pointer)
#define dnnl_memory_desc_init_by_tag (*dnnl_memory_desc_init_by_tag_pointer)
#define dnnl_memory_destroy (*dnnl_memory_destroy_pointer)
#define dnnl_memory_get_data_handle (*dnnl_memory_get_data_handle_pointer)
#define dnnl_memory_set_data_handle (*dnnl_memory_set_data_handle_pointer)
#define dnnl_post_ops_append_eltwise (*dnnl_post_ops_append_eltwise_pointer)
#define dnnl_post_ops_create (*dnnl_post_ops_create_pointer)
#define dnnl_post_ops_destroy (*dnnl_post_ops_destroy_pointer)
#define dnnl_primitive_attr_create (*dnnl_primitive_attr_create_pointer)
#define dnnl_primitive_attr_destroy (*dnnl_primitive_attr_destroy_pointer)
#define dnnl_primitive_attr_set_post_ops (*dnnl_primitive_attr_set_post_ops_pointer)
#define dnnl_primitive_create (*dnnl_primitive_create_pointer)
#define dnnl_primitive_desc_create (*dnnl_primitive_desc_create_pointer)
#define dnnl_primitive_desc_destroy (*dnnl_primitive_desc_destroy_pointer)
#define dnnl_primitive_desc_query (*dnnl_primitive_desc_query_pointer)
#define dnnl_primitive_desc_query_md (*dnnl_primitive_desc_query_md_pointer)
#define dnnl_primitive_destroy (*dnnl_primitive_destroy_pointer)
#define dnnl_primitive_execute (*dnnl_primitive_execute_pointer)
#define dnnl_reorder_primitive_desc_create (*dnnl_reorder_primitive_desc_create_pointer)
#define dnnl_stream_create (*dnnl_stream_create_pointer)
#define dnnl_stream_wait (*dnnl_stream_wait_pointer)
#define dnnl_version (*dnnl_version_pointer)
#endif

#endif
