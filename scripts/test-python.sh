#!/usr/bin/env bash
# The Python package's tests (python/tests, pytest): installs the package with its test extras
# into a virtualenv (.build/python-venv, rebuilt when pyproject.toml changes) and runs pytest.
# The durable tests need WAYMARK_TEST_DATABASE_URL (.ci/run starts a throwaway PostgreSQL) and
# the toolchain built by `swift build` (.build/debug).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.build/python-venv
stamp="$venv/.pyproject.sha256"
wanted=$(sha256sum python/pyproject.toml | cut -d' ' -f1)
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --upgrade pip
    # Editable: the tests exercise this checkout's package, console scripts included.
    "$venv/bin/pip" install --quiet -e "./python[test]"
    echo "$wanted" >"$stamp"
fi
exec "$venv/bin/python" -m pytest -q python/tests "$@"
