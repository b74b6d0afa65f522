#include <cblas.h>

// Exported by OpenBLAS's pthread build (driver/others/blas_server.c): stops its worker
// threads, which otherwise keep polling with sched_yield even after
// openblas_set_num_threads(1) and compete with cnn-viz's own workers for the cores.
int blas_thread_shutdown_(void);

// LAPACK's symmetric eigensolver (OpenBLAS bundles LAPACK), Fortran calling convention with the
// hidden lengths of the three character arguments at the end.
void dsyevr_(const char *jobz, const char *range, const char *uplo, const int *n, double *a, const int *lda,
             const double *vl, const double *vu, const int *il, const int *iu, const double *abstol, int *m,
             double *w, double *z, const int *ldz, int *isuppz, double *work, const int *lwork, int *iwork,
             const int *liwork, int *info, unsigned long jobz_length, unsigned long range_length,
             unsigned long uplo_length);
