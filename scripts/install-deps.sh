#!/usr/bin/env bash
# Installs the system packages Waymark builds and tests against, when they are missing.
# Debian/Ubuntu: python3-dev (the embedded CPython), pkg-config (to find it), graphviz (dot,
# for `waymarkc visualize --format svg|png` and the test that every golden DOT renders).
set -euo pipefail

packages=(python3-dev pkg-config graphviz)
missing=()
for package in "${packages[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
echo "installing: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "need root or sudo to install ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq "${missing[@]}"
