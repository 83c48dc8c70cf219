#!/usr/bin/env bash
# Installs the system packages RecKit needs when they are missing (Debian/Ubuntu; macOS needs none).
set -euo pipefail
if [[ "$(uname -s)" != "Linux" ]]; then exit 0; fi
missing=()
pkg-config --exists openblas 2>/dev/null || missing+=(libopenblas-dev)
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
pkg-config --exists sqlite3 2>/dev/null || missing+=(libsqlite3-dev) # the server's event store (GRDB)
if ((${#missing[@]})); then
    echo "installing: ${missing[*]}" >&2
    SUDO=""
    if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if ! command -v swift >/dev/null 2>&1; then
    echo "swift is not on PATH: install Swift 6 from swift.org first" >&2
    exit 1
fi
