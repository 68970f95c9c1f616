#!/usr/bin/env bash
# Installs the system packages Waymark builds and tests against, when they are missing.
# Debian/Ubuntu: python3-dev (the embedded CPython), pkg-config (to find it), graphviz (dot,
# for `waymarkc visualize --format svg|png` and the test that every golden DOT renders),
# libpq-dev (the runner's Postgres store) and postgresql (the server the store's tests run on).
# `--browser` adds chromium, for the dashboard's browser tests (.ci/run passes it).
set -euo pipefail

packages=(python3-dev python3-venv pkg-config graphviz libpq-dev postgresql)
if [ "${1:-}" = "--browser" ]; then packages+=(chromium); fi
missing=()
for package in "${packages[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || { echo "need root or sudo to install ${missing[*]}" >&2; exit 1; }
        sudo="sudo"
    fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq "${missing[@]}"
fi

# The Python the workers run on (python3 on PATH) needs pydantic for workflows with models.
if ! python3 -c "import pydantic" >/dev/null 2>&1; then
    echo "installing: pydantic (pip)"
    python3 -m pip install --quiet pydantic || python3 -m pip install --quiet --break-system-packages pydantic
fi
