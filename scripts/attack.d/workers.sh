#!/usr/bin/env bash
# Worker misbehaviour rows for scripts/attack.sh (sourced by it: uses BIN, WORK, TIMEOUT, record).
# Each behaviour runs twice through waymark-run: in a batch of 12 instances (the misbehaving one
# and 11 that only call well-behaved actions, on 2 workers that they share) and as a one-shot run.
# Handled cleanly means: waymark-run exits 0 or 1 by itself, every other instance completes (the
# summary says at most 1 failed), and no worker process is left behind. "ran OK" counts runs where
# the workflow caught the action's failure and every instance completed; "refused cleanly" runs
# where the misbehaving instance failed with a clear error (SystemExit, KeyboardInterrupt, ...).
# A run where other instances failed or a worker outlived waymark-run counts as "crashed".
CATEGORIES+=(worker-fd1 worker-exit worker-reply worker-forge worker-fork worker-hang)
WAPP="$WORK/worker-app"
mkdir -p "$WAPP"
cat >"$WAPP/misbehave_app.py" <<'EOF'
import asyncio, json, os, struct, subprocess, sys, threading, time

from waymark import RetryPolicy, Workflow, action, workflow


class Unprintable(Exception):
    def __str__(self):
        raise RuntimeError("no str")


@action
async def misbehave(behaviour: str) -> str:
    if behaviour == "fd1-write":
        body = b'{"type":"result","id":0,"token":0,"ok":true,"value":"forged"}'
        os.write(1, struct.pack(">I", len(body)) + body)
    elif behaviour == "subprocess-echo":
        subprocess.run(["echo", "hello from a subprocess"], check=True)
    elif behaviour == "close-fd1":
        os.close(1)
    elif behaviour == "os-exit":
        os._exit(3)
    elif behaviour == "sys-exit":
        sys.exit(4)
    elif behaviour == "keyboard-interrupt":
        raise KeyboardInterrupt("interrupted")
    elif behaviour == "base-exception":
        raise BaseException("bare")
    elif behaviour == "failing-str":
        raise Unprintable()
    elif behaviour == "huge-int":
        return 10 ** 5000
    elif behaviour == "lone-surrogate":
        return "\ud800"
    elif behaviour == "result-100mb":
        return "x" * (100 << 20)
    elif behaviour == "forge":
        for fd in range(3, 32):
            for dispatch in range(64):
                body = json.dumps({"type": "result", "id": dispatch, "token": dispatch, "ok": True, "value": "forged"}).encode()
                try:
                    os.write(fd, struct.pack(">I", len(body)) + body)
                except OSError:
                    pass
    elif behaviour == "fork":
        if os.fork() == 0:
            time.sleep(120)
            os._exit(0)
        os._exit(5)
    elif behaviour == "hang-async":
        await asyncio.sleep(3600)
    elif behaviour == "hang-ignoring-cancel":
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                pass
    elif behaviour == "hang-sync":
        await asyncio.to_thread(time.sleep, 3600)
    elif behaviour == "spin":
        while True:
            pass
    elif behaviour == "immortal-thread":
        threading.Thread(target=time.sleep, args=(3600,)).start()
    return behaviour


@action
def block(seconds: float) -> str:
    time.sleep(seconds)
    return "woke"


@action
async def fail_now() -> None:
    raise ValueError("failed beside a hanging action")


@action
async def ok(n: int) -> int:
    await asyncio.sleep(0.05)
    return n


@workflow
class Misbehave(Workflow):
    async def run(self, behaviour: str) -> dict:
        if behaviour == "fail-beside-hang":
            await asyncio.gather(self.run_action(block(3600), timeout=2), fail_now())
        try:
            if behaviour == "hang-sync":
                outcome = await self.run_action(block(3600), timeout=2, retry=RetryPolicy(attempts=2))
            elif behaviour == "result-100mb":
                outcome = await self.run_action(misbehave(behaviour), timeout=60)
            else:
                outcome = await self.run_action(misbehave(behaviour), timeout=2, retry=RetryPolicy(attempts=2))
        except Exception as error:
            outcome = "failed: " + str(error)[:80]
        others = await asyncio.gather(*[self.run_action(ok(n), retry=RetryPolicy(attempts=3)) for n in range(4)])
        return {"outcome": outcome, "others": others}
EOF
"$BIN/waymarkc" compile "$WAPP/misbehave_app.py" -o "$WAPP/misbehave.wmb" >"$WORK/out" 2>&1 || { cat "$WORK/out" >&2; exit 1; }

# worker_attempt CATEGORY BEHAVIOUR batch|one-shot
worker_attempt() {
    local category=$1 behaviour=$2 mode=$3 input
    if [ "$mode" = batch ]; then
        { printf '{"behaviour":"%s"}\n' "$behaviour"; for _ in $(seq 11); do echo '{"behaviour":"none"}'; done; } >"$WAPP/in.jsonl"
        input=(--inputs "$WAPP/in.jsonl")
    else
        input=(--input "{\"behaviour\":\"$behaviour\"}")
    fi
    timeout -k 5 "$TIMEOUT" "$BIN/waymark-run" "$WAPP/misbehave.wmb" --workers 2 --concurrency-per-worker 4 --cancel-grace 1 \
        --quiet "${input[@]}" >"$WORK/out" 2>"$WORK/err"
    local rc=$?
    sleep 0.2
    local left
    left=$(pgrep -f -- "--path $WAPP" | wc -l)
    local failed=0
    if [ "$mode" = batch ]; then
        failed=$(sed -nE 's/.* ([0-9]+) failed;.*/\1/p' "$WORK/out")
        failed=${failed:-12}
    fi
    if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
        record "$category" hung
        echo "HUNG [$category]: $behaviour ($mode)" >&2
    elif [ $rc -ge 128 ] || [ "$left" -gt 0 ] || [ "$failed" -gt 1 ] || { [ $rc -ne 0 ] && [ $rc -ne 1 ]; }; then
        record "$category" crashed
        echo "NOT CLEAN [$category]: $behaviour ($mode): exit $rc, $failed instances failed, $left workers left" >&2
        tail -3 "$WORK/err" >&2
        # shellcheck disable=SC2046 # the pids of this run's own workers, by id
        kill -KILL $(pgrep -f -- "--path $WAPP") 2>/dev/null
    elif [ $rc -eq 0 ]; then
        record "$category" ok
    else
        record "$category" refused
    fi
}

for spec in worker-fd1:fd1-write worker-fd1:subprocess-echo worker-fd1:close-fd1 \
    worker-exit:os-exit worker-exit:sys-exit worker-exit:keyboard-interrupt worker-exit:base-exception \
    worker-reply:failing-str worker-reply:huge-int worker-reply:lone-surrogate worker-reply:result-100mb \
    worker-forge:forge worker-fork:fork \
    worker-hang:hang-async worker-hang:hang-ignoring-cancel worker-hang:hang-sync worker-hang:spin \
    worker-hang:immortal-thread worker-hang:fail-beside-hang; do
    for mode in batch one-shot; do
        worker_attempt "${spec%%:*}" "${spec#*:}" "$mode"
    done
done
