#!/usr/bin/env bash
# Python's safetensors (with numpy) for the tests that read RecKit's model files with the reference
# implementation. Best effort: without Python or a package index those tests skip, saying why.
set -uo pipefail
python="${RECKIT_PYTHON:-python3}"
command -v "$python" >/dev/null 2>&1 || exit 0
"$python" -c "import safetensors, numpy" 2>/dev/null && exit 0
echo "installing Python's safetensors and numpy for the interoperability tests" >&2
"$python" -m pip install --quiet --disable-pip-version-check safetensors numpy >/dev/null 2>&1 \
    || echo "could not install safetensors; its interoperability tests will skip" >&2
exit 0
