#!/usr/bin/env bash
# Compiles waymark's public fixtures (python/tests/fixtures_* outside fixtures_unsupported/,
# and example_app) with waymarkc and prints the count that compiled and every failure.
# Usage: scripts/waymark-corpus.sh /path/to/waymark-upstream [waymarkc]
set -u
upstream=${1:?usage: scripts/waymark-corpus.sh /path/to/waymark [path/to/waymarkc]}
waymarkc=${2:-"$(dirname "$0")/../.build/debug/waymarkc"}
tests="$upstream/python/tests"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
total=0
passed=0
failures=()
run() {  # file, include root
    local file=$1 root=$2
    total=$((total + 1))
    if "$waymarkc" compile "$file" -I "$root" -o "$out/bundle.wmb" >"$out/log" 2>&1; then
        passed=$((passed + 1))
    else
        failures+=("${file#"$upstream"/}: $(grep -m1 -E 'error(\[|:)' "$out/log" || head -n1 "$out/log")")
    fi
}
while IFS= read -r file; do
    # Files without an @workflow class (action modules, base classes) are not programs.
    grep -q '^@workflow' "$file" || continue
    run "$file" "$(dirname "$tests")"
done < <(find "$tests" -path '*/fixtures_*/*.py' -not -path '*/fixtures_unsupported/*' | sort)
while IFS= read -r file; do
    run "$file" "$(dirname "$(dirname "$file")")"
done < <(find "$upstream/example_app" -name workflows.py | sort)
echo "$passed of $total compiled"
for failure in "${failures[@]}"; do echo "FAIL $failure"; done
[ "$passed" -eq "$total" ]
