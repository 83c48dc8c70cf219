#!/usr/bin/env bash
# Python packages for the tests that check RecKit against reference implementations: safetensors
# (with numpy) reads RecKit's model files; PySpark (with scipy for the peers' metric code) runs the
# Spark hand-over end to end in local mode, on the machine's Java 17. Best effort: without Python, a
# package index or Java those tests skip, saying why.
set -uo pipefail
# The web page's test drives a real browser: Debian's chromium and its chromedriver.
if [[ "$(uname -s)" == "Linux" ]] && ! command -v chromedriver >/dev/null 2>&1 \
    && command -v apt-get >/dev/null 2>&1; then
    echo "installing chromium and chromium-driver for the web page's test" >&2
    SUDO=""
    if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
    { $SUDO apt-get update -qq \
        && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver; } >/dev/null 2>&1 \
        || echo "could not install chromium; the page test fails on CI, skips elsewhere" >&2
fi
# The event store's PostgreSQL tests start a throw-away cluster: Debian's postgresql (initdb, pg_ctl).
if [[ "$(uname -s)" == "Linux" ]] && ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 \
    && command -v apt-get >/dev/null 2>&1; then
    echo "installing postgresql for the event store's tests" >&2
    SUDO=""
    if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
    { $SUDO apt-get update -qq \
        && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql; } >/dev/null 2>&1 \
        || echo "could not install postgresql; its tests fail on CI, skip elsewhere" >&2
fi
python="${RECKIT_PYTHON:-python3}"
command -v "$python" >/dev/null 2>&1 || exit 0
install() { # module-to-import pip-package...
    local module="$1"
    shift
    "$python" -c "import $module" 2>/dev/null && return 0
    echo "installing Python's $* for the interoperability tests" >&2
    "$python" -m pip install --quiet --disable-pip-version-check "$@" >/dev/null 2>&1 \
        || echo "could not install $*; the tests that need it will skip" >&2
}
install "safetensors, numpy" safetensors numpy
install "scipy" scipy
if command -v java >/dev/null 2>&1; then
    install "pyspark" pyspark
fi
exit 0
