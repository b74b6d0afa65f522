#include <cblas.h>

// Exported by OpenBLAS's pthread build (driver/others/blas_server.c): stops its worker
// threads, which otherwise keep polling with sched_yield even after
// openblas_set_num_threads(1) and compete with cnn-viz's own workers for the cores.
int blas_thread_shutdown_(void);
