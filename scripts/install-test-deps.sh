#!/usr/bin/env bash
# Python packages for the tests that check RecKit against reference implementations: safetensors
# (with numpy) reads RecKit's model files; PySpark (with scipy for the peers' metric code) runs the
# Spark hand-over end to end in local mode, on the machine's Java 17. Best effort: without Python, a
# package index or Java those tests skip, saying why.
set -uo pipefail
# Debian packages for tests that drive real programs (best effort; their tests fail on CI, skip elsewhere).
apt_install() { # what-for package...
    local purpose="$1"
    shift
    [[ "$(uname -s)" == "Linux" ]] && command -v apt-get >/dev/null 2>&1 || return 0
    echo "installing $* for $purpose" >&2
    local sudo=""
    if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
    { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@"; } >/dev/null 2>&1 \
        || echo "could not install $*; $purpose fails on CI, skips elsewhere" >&2
}
# The web page's test drives a real browser: Debian's chromium and its chromedriver.
command -v chromedriver >/dev/null 2>&1 || apt_install "the web page's test" chromium chromium-driver
# The event store's PostgreSQL tests start a throw-away cluster: Debian's postgresql (initdb, pg_ctl).
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || apt_install "the event store's PostgreSQL tests" postgresql
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
