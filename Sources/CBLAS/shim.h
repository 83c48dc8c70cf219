// The system CBLAS (OpenBLAS on Linux); include paths come from pkg-config.
#ifndef RECKIT_CBLAS_SHIM_H
#define RECKIT_CBLAS_SHIM_H
#include <cblas.h>
#endif
