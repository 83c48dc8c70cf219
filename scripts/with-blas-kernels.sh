#!/usr/bin/env bash
# Runs a command with OpenBLAS on the kernels this CPU supports. OpenBLAS (0.3.21 in Debian 12) does
# not know CPUs newer than itself (Intel's family 6 model 207, say) and falls back to its SSE3
# "Prescott" kernels: several times slower, and not the kernels the tests' BLAS-dependent pins were
# measured with (see BLASLibrary). Then OPENBLAS_CORETYPE names the family the CPU's flags support:
# SkylakeX with AVX-512, Haswell with AVX2 and FMA. A value already set is left alone.
set -euo pipefail
if [[ -z "${OPENBLAS_CORETYPE:-}" && "$(uname -s)" == "Linux" && "$(uname -m)" == "x86_64" ]]; then
    core=$(python3 -c 'import ctypes
lib = ctypes.CDLL("libopenblas.so.0")
lib.openblas_get_corename.restype = ctypes.c_char_p
print(lib.openblas_get_corename().decode())' 2>/dev/null || true)
    case "$core" in
        Prescott | Core2 | Penryn | Dunnington | Nehalem | Katmai | Coppermine | Northwood | Banias | unknown)
            flags=$(grep -m1 '^flags' /proc/cpuinfo || true)
            has() { [[ " $flags " == *" $1 "* ]]; }
            if has avx512f && has avx512bw && has avx512vl && has avx512dq; then
                export OPENBLAS_CORETYPE=SkylakeX
            elif has avx2 && has fma; then
                export OPENBLAS_CORETYPE=Haswell
            fi
            if [[ -n "${OPENBLAS_CORETYPE:-}" ]]; then
                echo "OpenBLAS does not know this CPU ($core kernels); using its $OPENBLAS_CORETYPE kernels" >&2
            fi
            ;;
    esac
fi
exec "$@"
