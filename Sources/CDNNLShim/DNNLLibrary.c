// oneDNN, opened at its first use rather than linked.
//
// Debian's oneDNN runs on OpenMP (libgomp), whose threads spin for a while after every
// parallel region before they sleep (OMP_WAIT_POLICY=active's behaviour, libgomp's default).
// cnn-viz's own workers run between oneDNN's calls, and on two cores the spinning threads take
// the cores away from them: a 64-step `visualize` on SqueezeNet took 4.6–5.7 s with them
// spinning and 3.3–3.8 s with OMP_WAIT_POLICY=passive (2-core Xeon, three runs each).
// libgomp reads that variable once, when it is loaded, so
// a linked libgomp would have read it before main. Loading oneDNN (and with it libgomp) here
// lets the process default to passive; a user's own OMP_WAIT_POLICY or GOMP_SPINCOUNT wins.
// Pitfall: setenv is not thread-safe, so the first load should happen before other threads
// read the environment (CNNVizEngine.configureProcess does it first thing when oneDNN runs
// the convolutions).
// A machine without libdnnl.so.2 runs without oneDNN: cnnviz_dnnl_load says why.
#define _GNU_SOURCE
#define CNNVIZ_DNNL_LIBRARY_DEFINITIONS
#include "DNNLLibrary.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define CNNVIZ_DNNL_DEFINE_POINTER(name) __typeof__(&name) name##_pointer;
CNNVIZ_DNNL_FUNCTIONS(CNNVIZ_DNNL_DEFINE_POINTER)
void (*cnnviz_omp_set_num_threads_pointer)(int);

static const char *load_failure = "oneDNN not loaded";
static char load_message[512];
static pthread_once_t load_once = PTHREAD_ONCE_INIT;

static void load(void) {
    if (!getenv("GOMP_SPINCOUNT") && !dlopen("libgomp.so.1", RTLD_NOW | RTLD_NOLOAD)) setenv("OMP_WAIT_POLICY", "passive", 0);
    void *library = dlopen("libdnnl.so.2", RTLD_NOW | RTLD_LOCAL);
    if (!library) {
        snprintf(load_message, sizeof(load_message), "can't load oneDNN (libdnnl.so.2): %s", dlerror());
        load_failure = load_message;
        return;
    }
#define CNNVIZ_DNNL_RESOLVE(name)                                                                              \
    if (!(name##_pointer = (__typeof__(name##_pointer))dlsym(library, #name))) {                                \
        snprintf(load_message, sizeof(load_message), "oneDNN (libdnnl.so.2) lacks %s", #name);                  \
        load_failure = load_message;                                                                           \
        return;                                                                                                \
    }
    CNNVIZ_DNNL_FUNCTIONS(CNNVIZ_DNNL_RESOLVE)
    void *openmp = dlopen("libgomp.so.1", RTLD_NOW | RTLD_NOLOAD);
    if (openmp) cnnviz_omp_set_num_threads_pointer = (void (*)(int))dlsym(openmp, "omp_set_num_threads");
    load_failure = NULL;
}

const char *cnnviz_dnnl_load(void) {
    pthread_once(&load_once, load);
    return load_failure;
}
