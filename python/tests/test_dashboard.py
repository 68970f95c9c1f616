"""The dashboard over a database with finished and failed instances: pages, JSON, escaping,
the token on changes, /healthz, and /metrics read by prometheus_client's own parser."""

import asyncio
import json
import os
import re
import subprocess
import urllib.error
import urllib.request

import pytest

from test_durable import durable, database  # noqa: F401 - fixtures
from shop.flows import Checkout, Limited, RateLimited


@pytest.fixture
def dashboard(durable, monkeypatch):  # noqa: F811
    env = dict(os.environ, WAYMARK_WEBAPP_TOKEN="t0ken")
    process = subprocess.Popen(
        [os.environ["WAYMARK_RUN"], "dashboard", "--addr", "127.0.0.1:0"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    assert process.stderr is not None
    line = process.stderr.readline()
    match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
    assert match, line
    yield f"http://127.0.0.1:{match.group(1)}"
    process.terminate()
    process.wait(timeout=10)


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def post(url: str, token: str | None = None) -> int:
    request = urllib.request.Request(url, method="POST", headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_pages_json_escaping_token_and_metrics(dashboard):
    hostile = "<script>alert(1)</script>"

    async def work():
        await Checkout().run(hostile, ["apple"])
        with pytest.raises(RateLimited):
            await Limited().run("maps")

    asyncio.run(work())
    status, listing = get(f"{dashboard}/api/instances?limit=10")
    assert status == 200
    instances = json.loads(listing)["instances"]
    by_workflow = {item["workflow"]: item for item in instances}
    assert by_workflow["Checkout"]["status"] == "completed" and by_workflow["Limited"]["status"] == "failed"

    # The hostile input is shown as text, never as markup.
    status, page = get(f"{dashboard}/instances/{by_workflow['Checkout']['id']}")
    assert status == 200 and hostile not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page

    # A failed instance shows its error and the worker's traceback.
    status, page = get(f"{dashboard}/instances/{by_workflow['Limited']['id']}")
    assert 'id="error"' in page and "RateLimited" in page and "call_api" in page

    status, page = get(f"{dashboard}/instances?status=failed&workflow=Limited")
    assert status == 200 and by_workflow["Limited"]["id"] in page and by_workflow["Checkout"]["id"] not in page
    assert get(f"{dashboard}/instances?status=bogus")[0] == 400

    # Changes need the token.
    retry = f"{dashboard}/api/instances/{by_workflow['Limited']['id']}/retry"
    assert post(retry) == 401 and post(retry, "wrong") == 401
    assert post(retry, "t0ken") == 200
    cancel = f"{dashboard}/api/instances/{by_workflow['Checkout']['id']}/cancel"
    assert post(cancel) == 401 and post(cancel, "wrong") == 401
    assert post(cancel, "t0ken") == 409, "a completed instance has nothing to cancel"

    assert json.loads(get(f"{dashboard}/healthz")[1])["ok"] is True

    from prometheus_client.parser import text_string_to_metric_families

    families = {family.name: family for family in text_string_to_metric_families(get(f"{dashboard}/metrics")[1])}
    counts = {sample.labels["status"]: sample.value for sample in families["waymark_instances"].samples}
    assert set(counts) == {"queued", "running", "sleeping", "completed", "failed", "cancelled"}
    assert sum(counts.values()) >= 2


def test_status_lists_and_says_why_an_instance_waits(durable):
    import psycopg

    url = os.environ["WAYMARK_DATABASE_URL"]
    asyncio.run(Checkout().run("ada", ["apple"]))
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("INSERT INTO waymark_workflow_versions (version, name) VALUES ('unserved-v', 'Ghost') ON CONFLICT DO NOTHING")
        connection.execute("INSERT INTO waymark_instances (id, workflow, version, status, input) VALUES ('ghost-1', 'Ghost', 'unserved-v', 'queued', '{}')")
    run = os.environ["WAYMARK_RUN"]
    status = subprocess.run([run, "status", "ghost-1"], capture_output=True, text=True, env=dict(os.environ))
    assert status.returncode == 0 and "waiting: no server" in status.stdout and "unserved-v" in status.stdout, status.stdout
    listed = subprocess.run([run, "status", "--list", "--status", "completed", "--workflow", "Checkout", "--format", "json"],
                            capture_output=True, text=True, env=dict(os.environ))
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert rows and all(row["status"] == "completed" and row["workflow"] == "Checkout" for row in rows)


def test_serve_hosts_the_dashboard_with_the_runtimes_counters(database, monkeypatch, tmp_path):  # noqa: F811
    """`serve --dashboard`: the same pages from the server process, and /metrics with what this
    server counted: actions by outcome and their durations, instances finished, attempts
    retried and timed out, worker restarts, dispatch latency and group-commit batch sizes."""
    import uuid

    from conftest import serve_with_dashboard
    from prometheus_client.parser import text_string_to_metric_families
    from shop.flows import state_directory
    from shop.strained import Crashy, Impatient, Resilient, Stalled

    monkeypatch.setenv("WAYMARK_DATABASE_URL", database)
    monkeypatch.setenv("WAYMARK_PYTEST_DATABASE", "1")
    server, base = serve_with_dashboard("shop.flows,shop.strained", tmp_path / "serve.log", "--workers", "1", "--quiet",
                                        WAYMARK_DATABASE_URL=database)
    try:
        key = uuid.uuid4().hex

        async def work():
            await asyncio.gather(*[Checkout().run(f"u{i}", ["apple", "kiwi"]) for i in range(5)])
            with pytest.raises(RateLimited):
                await Limited().run("maps")
            assert await Resilient().run(key) == "steady"  # two failed attempts, retried
            with pytest.raises(Exception, match="timed out"):
                await Impatient().run(30.0)  # one attempt timed out
            assert await Crashy().run(key) == "survived"  # its worker died: lost (timed out), retried, restarted
            stalled = await Stalled().run(key, _blocking=False)
            started = os.path.join(state_directory(), f"stall-{key}")
            for _ in range(1200):  # until its action runs, so that the cancel releases it
                if os.path.exists(started):
                    break
                await asyncio.sleep(0.05)
            assert os.path.exists(started), "the stalled action never started"
            assert await stalled.cancel() is False
            with pytest.raises(asyncio.CancelledError):
                await stalled.result()

        asyncio.run(work())
        families = {family.name: family for family in text_string_to_metric_families(get(f"{base}/metrics")[1])}

        def total(family: str, sample: str, **labels) -> float:
            return sum(s.value for s in families[family].samples
                       if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items()))

        # Actions as the workflows see them (retries inside): 10 prices, call_api, wobbly, dawdle,
        # die_once; and stall, which the cancellation released (still running in its worker).
        assert total("waymark_actions", "waymark_actions_total", outcome="succeeded") == 12
        assert total("waymark_actions", "waymark_actions_total", outcome="failed") == 2
        assert total("waymark_actions", "waymark_actions_total", outcome="cancelled") == 1
        assert total("waymark_instances_finished", "waymark_instances_finished_total", status="completed") == 7
        assert total("waymark_instances_finished", "waymark_instances_finished_total", status="failed") == 2
        assert total("waymark_instances_finished", "waymark_instances_finished_total", status="cancelled") == 1
        assert total("waymark_action_attempts_retried", "waymark_action_attempts_retried_total") == 3
        assert total("waymark_action_attempts_timed_out", "waymark_action_attempts_timed_out_total") == 2
        assert total("waymark_worker_restarts", "waymark_worker_restarts_total", reason="exited") == 1
        # Dispatch latency (ready -> the worker starts it) is known from the answer: 17 attempts
        # (10 + 1 + 3 + 1 + 2), less the one whose worker died; the timed-out one answers late.
        assert total("waymark_dispatch_latency_seconds", "waymark_dispatch_latency_seconds_count") == 16
        assert total("waymark_action_duration_seconds", "waymark_action_duration_seconds_count") == 14
        # Each recorded outcome went through a group commit (batches of one or more): the 14
        # actions' and the cancellation delivered at stall's await.
        batches = total("waymark_group_commit_batch_size", "waymark_group_commit_batch_size_count", kind="journal")
        written = total("waymark_group_commit_batch_size", "waymark_group_commit_batch_size_sum", kind="journal")
        assert 1 <= batches <= written and written == 15
        assert get(f"{base}/instances")[0] == 200
    finally:
        server.terminate()
        server.wait(timeout=30)
