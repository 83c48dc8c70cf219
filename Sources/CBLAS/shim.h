// The system CBLAS (OpenBLAS on Linux); include paths come from pkg-config.
#ifndef RECKIT_CBLAS_SHIM_H
#define RECKIT_CBLAS_SHIM_H
#include <cblas.h>

// LAPACK's Cholesky factorisation and inverse, which OpenBLAS also exports (Fortran calling
// convention: every argument by pointer).
void spotrf_(const char *uplo, const int *n, float *a, const int *lda, int *info);
void spotri_(const char *uplo, const int *n, float *a, const int *lda, int *info);
#endif
