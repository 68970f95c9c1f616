#!/usr/bin/env bash
# The full attack suite (issue 15): hostile inputs, 1,000 mutated bundles, hostile compiler
# inputs, and whatever scripts/attack.d/*.sh adds (worker misbehaviour). Prints one table:
#   category | tried | refused cleanly | ran OK | crashed | hung | ran code
# "ran code" means a marker file that the hostile payload would create exists afterwards;
# "crashed" is a signal exit (or a Swift fatal error, which is one); "hung" is a timeout.
# `swift test` runs a fixed-seed subset of the same attacks (the Security*Tests suites).
#
# Usage: scripts/attack.sh            (builds debug binaries first)
#        WAYMARK_BIN=.build/release scripts/attack.sh
# Adding rows: put a script in scripts/attack.d/ that calls `attempt CATEGORY CMD...` (or
# `record CATEGORY OUTCOME`) and add CATEGORY to CATEGORIES in it: `CATEGORIES+=(worker-exit)`.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${WAYMARK_BIN:-$ROOT/.build/debug}
TIMEOUT=${WAYMARK_ATTACK_TIMEOUT:-60}
MUTANTS=${WAYMARK_ATTACK_MUTANTS:-1000}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
MARK="$WORK/RAN-CODE"
export WAYMARK_ATTACK_MARK="$MARK"

if [ -z "${WAYMARK_BIN:-}" ]; then
    (cd "$ROOT" && swift build --build-tests >/dev/null) || { echo "build failed" >&2; exit 1; }
fi

CATEGORIES=(input-type input-depth input-size input-number input-string input-tag compiler)
declare -A TRIED REFUSED OK CRASHED HUNG RAN

# record CATEGORY refused|ok|crashed|hung|ran
record() {
    TRIED[$1]=$(( ${TRIED[$1]:-0} + 1 ))
    case $2 in
        refused) REFUSED[$1]=$(( ${REFUSED[$1]:-0} + 1 )) ;;
        ok) OK[$1]=$(( ${OK[$1]:-0} + 1 )) ;;
        crashed) CRASHED[$1]=$(( ${CRASHED[$1]:-0} + 1 )) ;;
        hung) HUNG[$1]=$(( ${HUNG[$1]:-0} + 1 )) ;;
        ran) RAN[$1]=$(( ${RAN[$1]:-0} + 1 )) ;;
    esac
}

# attempt CATEGORY CMD...: runs CMD under a timeout and classifies how it ended. Exit 1 (the
# workflow failed with a Python exception) and 2 (refused: bad input, bundle or usage) are
# clean refusals; a Swift fatal error exits by SIGILL/SIGTRAP, so it counts as a crash.
attempt() {
    local category=$1
    shift
    rm -f "$MARK"
    timeout -k 5 "$TIMEOUT" "$@" >"$WORK/out" 2>&1
    local rc=$?
    if [ -e "$MARK" ]; then
        record "$category" ran
        echo "RAN CODE [$category]: $*" | cut -c1-300 >&2
    elif [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
        record "$category" hung
        echo "HUNG [$category]: $*" | cut -c1-300 >&2
    elif [ $rc -ge 128 ]; then
        record "$category" crashed
        echo "CRASHED ($rc) [$category]: $*" | cut -c1-300 >&2
        tail -3 "$WORK/out" >&2
    elif [ $rc -eq 0 ]; then
        record "$category" ok
    else
        record "$category" refused
    fi
}

# --- A workflow that hands its input to an action (where a tag would be resolved) ---
APP="$WORK/app"
mkdir -p "$APP"
cat >"$APP/echo_app.py" <<'EOF'
from waymark import Workflow, action, workflow


@action
async def echo(payload: dict) -> dict:
    return payload


@workflow
class Echo(Workflow):
    async def run(self, payload: dict, count: int = 0, name: str = "") -> dict:
        return await echo(payload)
EOF
"$BIN/waymarkc" compile "$APP/echo_app.py" -o "$APP/echo.wmb" >"$WORK/out" 2>&1 || { cat "$WORK/out" >&2; exit 1; }
run_input() { attempt "$1" "$BIN/waymark-run" "$APP/echo.wmb" --workers 1 --quiet --inputs "$2"; }
input_file() { printf '%s\n' "$2" >"$WORK/$1.json"; echo "$WORK/$1.json"; }

python3 - "$WORK" "$MARK" <<'EOF'
import json, os, sys
sys.set_int_max_str_digits(0)
work, mark = sys.argv[1], sys.argv[2]
cmd = f"touch {mark}"
cases = {
    "input-type": [{"payload": 1}, {"payload": [1, 2]}, {"payload": None}, {"payload": {}, "count": "1; rm -rf /"},
                   {"payload": {}, "count": True}, {"payload": {}, "count": 1.5}, {"payload": {}, "nope": 1}, [], "x", None],
    "input-number": [{"payload": {"n": float("nan")}}, {"payload": {"n": float("inf")}}, {"payload": {"n": -float("inf")}},
                     {"payload": {}, "count": int("9" * 5000)}, {"payload": {}, "count": 10**4299}, {"payload": {"n": 1e308 * 10}}],
    "input-string": [{"payload": {"s": "a\u0000b"}, "name": "\u0000"}, {"payload": {"s": "\u202e\ufeff"}},
                     {"payload": {}, "name": "x" * (5 << 20)}],
}
tags = ["tuple", "set", "dict", "model", "exception", "enum", "datetime", "date", "time", "timedelta", "uuid", "decimal", "bytes"]
hostile = []
for tag in tags:
    # Each callable with the keyword its command goes under, so a resolved tag would really run it.
    for target, keyword in [("os.system", "command"), ("subprocess.getoutput", "cmd"), ("posix.system", "command"),
                            ("builtins.exec", "source")]:
        module, _, name = target.rpartition(".")
        hostile.append({"payload": {"v": {"__wm__": tag, "type": target, "module": module, "name": name,
                                          "fields": {keyword: cmd}, "value": cmd, "items": [cmd],
                                          "args": [cmd], "message": cmd, "repr": cmd}}})
    hostile.append({"payload": {"v": {"__wm__": tag, "module": "antigravity", "type": "antigravity.fly", "value": 1}}})
cases["input-tag"] = hostile
for category, inputs in cases.items():
    for index, value in enumerate(inputs):
        with open(os.path.join(work, f"{category}-{index}.json"), "w") as f:
            f.write(json.dumps(value, separators=(",", ":")) + "\n")
# Depth and size, written directly (json.dumps itself refuses very deep values).
for depth in [255, 257, 1000, 5000, 100000]:
    with open(os.path.join(work, f"input-depth-{depth}.json"), "w") as f:
        f.write('{"payload":{"v":' + "[" * depth + "]" * depth + "}}\n")
with open(os.path.join(work, "input-size-big.json"), "w") as f:
    f.write('{"payload":{"v":[' + ",".join(["1"] * 6_000_000) + "]}}\n")
with open(os.path.join(work, "input-size-line.json"), "w") as f:
    f.write('{"payload":{"v":"' + "x" * 11_000_000 + '"}}\n')
with open(os.path.join(work, "input-size-batch.json"), "w") as f:
    f.write('{"payload":{}}\n' * 100_001)
with open(os.path.join(work, "input-string-surrogate.json"), "w") as f:
    f.write('{"payload":{"s":"\\ud800"}}\n{"payload":{"s":"\\ud800\\u0041"}}\n')
with open(os.path.join(work, "input-string-utf8.json"), "wb") as f:
    f.write(b'{"payload":{"s":"\xff\xfe\xc3"}}\n')
EOF
for file in "$WORK"/input-*.json; do
    name=$(basename "$file" .json)
    run_input "$(echo "$name" | sed -E 's/^(input-[a-z]+)-.*/\1/')" "$file"
done

# --- Hostile compiler inputs ---
C="$WORK/compiler"
mkdir -p "$C/loops"
python3 - "$C" <<'EOF'
import sys
c = sys.argv[1]
head = "from waymark import Workflow, action, workflow\n\n\n@workflow\nclass W(Workflow):\n    async def run(self, x: int) -> int:\n"
files = {
    "chain2000.py": head + "        return " + " + ".join(["x"] * 2000) + "\n",
    "chain5000.py": head + "        return " + " + ".join(["x"] * 5000) + "\n",
    "unary2900.py": head + "        return " + "-" * 2900 + "x\n",
    "parens300.py": head + "        return " + "(" * 300 + "x" + ")" * 300 + "\n",
    "blocks.py": head + "".join("        " + "    " * i + f"if x > {i}:\n" for i in range(150)) + "        " + "    " * 150 + "return x\n        return x\n",
    "hugeint.py": head + "        return " + "9" * 100000 + "\n",
    "hugestr.py": head + "        return len('" + "x" * 20_000_000 + "')\n",
    "hugelist.py": head + "        return len([" + ",".join(["1"] * 200_000) + "])\n",
    "empty.py": "",
    "cycle_a.py": "import cycle_b\n" + head + "        return x\n",
    "cycle_b.py": "import cycle_a\n",
}
for name, text in files.items():
    with open(f"{c}/{name}", "w") as f:
        f.write(text)
with open(f"{c}/binary.py", "wb") as f:
    f.write(b"\xff\xfe\x00\x80" * 100)
EOF
ln -s "$C/loops" "$C/loops/self"
ln -s "$C/loops/a.py" "$C/loops/b.py"
ln -s "$C/loops/b.py" "$C/loops/a.py"
for file in "$C"/*.py; do
    attempt compiler "$BIN/waymarkc" compile "$file" -o "$C/out.wmb" -I "$C/loops" -I "$C/loops/self"
done
attempt compiler "$BIN/waymarkc" compile "$C" -o "$C/out.wmb"
attempt compiler "$BIN/waymarkc" compile "$C/missing.py" -o "$C/out.wmb"
attempt compiler "$BIN/waymarkc" inspect "$C/binary.py"

# --- 1,000 mutated bundles: the loader in-process, then every mutant it accepts is run ---
MUT="$WORK/mutants"
mkdir -p "$MUT"
(cd "$ROOT" && WAYMARK_ATTACK_MUTANTS=$MUTANTS WAYMARK_ATTACK_TABLE=1 WAYMARK_ATTACK_MUTANT_DIR="$MUT" \
    swift test --skip-build --filter SecurityBundleTests/mutatedBundlesAreRefusedOrLoadWithoutCrashing) >"$WORK/mutants.log" 2>&1
loader_rc=$?
while read -r _ category tried refused loaded; do
    CATEGORIES+=("$category")
    for _ in $(seq 1 "$refused"); do record "$category" refused; done
    TRIED[$category]=$(( ${TRIED[$category]:-0} + loaded ))
done < <(grep '^ATTACK ' "$WORK/mutants.log")
if [ $loader_rc -ge 128 ] || ! grep -q '^ATTACK ' "$WORK/mutants.log"; then
    CATEGORIES+=(bundle-loader)
    record bundle-loader crashed
    tail -5 "$WORK/mutants.log" >&2
fi
for mutant in "$MUT"/*.wmb; do
    [ -e "$mutant" ] || continue
    fixture=$(basename "$mutant" | sed -E 's/-[0-9]+-.*//')
    category=bundle-$(basename "$mutant" .wmb | sed -E 's/^[a-z_]+-[0-9]+-//')
    input=$(python3 -c "import json,sys; print(json.dumps(json.load(open(sys.argv[1]))['cases'][0]['input']))" "$ROOT/Fixtures/compile/$fixture.cases.json" 2>/dev/null || echo '{}')
    # TRIED already counts this mutant; attempt would count it again.
    TRIED[$category]=$(( ${TRIED[$category]} - 1 ))
    attempt "$category" "$BIN/waymark-run" "$mutant" --workers 1 --quiet --sleep-scale 0 \
        --allow-search-path "$ROOT/Fixtures/compile" --input "$input"
done

# --- Rows added by other parts (worker misbehaviour: scripts/attack.d/*.sh) ---
for hook in "$ROOT"/scripts/attack.d/*.sh; do
    [ -e "$hook" ] || continue
    # shellcheck source=/dev/null
    . "$hook"
done

printf '| %-28s | %5s | %15s | %6s | %7s | %4s | %8s |\n' category tried "refused cleanly" "ran OK" crashed hung "ran code"
printf '|%s|%s|%s|%s|%s|%s|%s|\n' "------------------------------" "-------" "-----------------" "--------" "---------" "------" "----------"
bad=0
for category in "${CATEGORIES[@]}"; do
    [ -n "${TRIED[$category]:-}" ] || continue
    printf '| %-28s | %5d | %15d | %6d | %7d | %4d | %8d |\n' "$category" "${TRIED[$category]}" "${REFUSED[$category]:-0}" \
        "${OK[$category]:-0}" "${CRASHED[$category]:-0}" "${HUNG[$category]:-0}" "${RAN[$category]:-0}"
    bad=$(( bad + ${CRASHED[$category]:-0} + ${HUNG[$category]:-0} + ${RAN[$category]:-0} ))
done
[ $bad -eq 0 ]
