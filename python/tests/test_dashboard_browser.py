"""The dashboard in a real browser: headless Chromium (Debian's `chromium`) loads every page of
a server (`waymark-start-workers --dashboard`, real workers, PostgreSQL) whose workflows are in
every state at once: completed, failed, asleep for an hour, and retrying an action with backoff.
Assertions are on the DOM as Chromium rendered it (`--dump-dom`); each page is also saved as a
screenshot (WAYMARK_SCREENSHOT_DIR, default .build/dashboard-screenshots, ignored by git).

Without Chromium the tests skip, except under CI, where `.ci/run` installs it and they fail."""

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import REPO, serve_with_dashboard
from test_durable import database  # noqa: F401 - fixture

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if not CHROMIUM:
    if os.environ.get("CI"):
        pytest.fail("chromium is not installed under CI (.ci/run installs it)", pytrace=False)
    pytest.skip("no chromium on PATH", allow_module_level=True)

SCREENSHOTS = Path(os.environ.get("WAYMARK_SCREENSHOT_DIR", REPO / ".build" / "dashboard-screenshots"))
HOSTILE = '<img src=x onerror="document.body.dataset.pwned=1"><script>document.body.dataset.pwned=2</script>'


def browser(url: str, *flags: str) -> subprocess.CompletedProcess:
    # --no-sandbox: CI runs as root, where Chromium refuses its sandbox. A profile of its own per
    # call, so two runs never share (or lock) one.
    profile = SCREENSHOTS / ".profile"
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars", f"--user-data-dir={profile}",
         "--window-size=1100,1400", *flags, url],
        capture_output=True, text=True, timeout=60)


def rendered(url: str) -> str:
    """The DOM after Chromium loaded the page and ran its scripts."""
    done = browser(url, "--dump-dom")
    assert done.returncode == 0 and "<html" in done.stdout, done.stderr[-2000:]
    return done.stdout


def screenshot(url: str, name: str, height: int = 1400) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    done = browser(url, f"--screenshot={path}", f"--window-size=1100,{height}")
    assert done.returncode == 0 and path.exists() and path.stat().st_size > 10_000, done.stderr[-2000:]
    return path


class Dom(HTMLParser):
    """The rendered DOM's elements (tag, attributes) and each element's text, enough to assert on."""

    VOID = {"img", "br", "meta", "input", "link", "hr", "source", "path", "polygon", "ellipse", "polyline", "rect"}

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[dict] = []
        self.open: list[dict] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        element = {"tag": tag, "attrs": dict(attrs), "text": ""}
        self.elements.append(element)
        if tag not in self.VOID:
            self.open.append(element)

    def handle_startendtag(self, tag, attrs):
        self.elements.append({"tag": tag, "attrs": dict(attrs), "text": ""})

    def handle_endtag(self, tag):
        for index in range(len(self.open) - 1, -1, -1):
            if self.open[index]["tag"] == tag:
                del self.open[index:]
                break

    def handle_data(self, data):
        for element in self.open:
            element["text"] += data

    def find(self, tag=None, **attrs) -> list[dict]:
        return [e for e in self.elements if (tag is None or e["tag"] == tag)
                and all(e["attrs"].get(k.replace("_", "-")) == v for k, v in attrs.items())]

    def by_id(self, id: str) -> dict:
        found = self.find(id=id)
        assert found, f"no element #{id}"
        return found[0]


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def server(database, tmp_path_factory):  # noqa: F811
    """A server with its dashboard on a free port, serving shop.monitored."""
    log = tmp_path_factory.mktemp("browser") / "serve.log"
    process, base = serve_with_dashboard("shop.monitored", log, "--workers", "2", WAYMARK_DATABASE_URL=database,
                                         WAYMARK_WEBAPP_TOKEN="t0ken")
    try:
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def mid_run(server, database, tmp_path_factory):  # noqa: F811
    """Instances in every state: ids by name."""
    from _pytest.monkeypatch import MonkeyPatch

    from shop.monitored import FeedSync, Order, PaymentDeclined, Reminder

    patch = MonkeyPatch()
    patch.setenv("WAYMARK_DATABASE_URL", database)
    patch.setenv("WAYMARK_PYTEST_DATABASE", "1")
    patch.setenv("WAYMARK_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "bundles"))
    for name, variable in (("waymarkc", "WAYMARK_WAYMARKC"), ("waymark-run", "WAYMARK_RUN")):
        if not os.environ.get(variable):
            patch.setenv(variable, str(REPO / ".build" / "debug" / name))

    async def start():
        ids = {}
        for index in range(3):
            await Order().run(f"customer-{index}", ["apple", "kiwi", "fig"])
        ids["hostile"] = (await Order().run(HOSTILE, ["pear"], _blocking=False)).id
        await Order.handle(ids["hostile"]).result(timeout=60)
        declined = await Order().run("declined-dora", ["apple", "melon"], _blocking=False)
        ids["failed"] = declined.id
        with pytest.raises(PaymentDeclined):
            await declined.result(timeout=60)
        ids["sleeping"] = (await Reminder().run("sam", _blocking=False)).id
        ids["retrying"] = (await FeedSync().run("https://feeds.example/a.xml", _blocking=False)).id
        return ids

    try:
        ids = asyncio.run(start())
    finally:
        patch.undo()
    # Wait for the sleeper to park and the feed sync to fail at least twice: seconds on an idle
    # machine; the bound (10 minutes) only keeps a broken server from hanging the suite.
    for _ in range(3000):
        sleeping = get_json(f"{server}/api/instances/{ids['sleeping']}")["status"] == "sleeping"
        retrying = get_json(f"{server}/api/instances/{ids['retrying']}")["attempts_in_flight"]
        if sleeping and retrying and len(retrying[0]["failed_attempts"]) >= 2:
            return ids
        time.sleep(0.2)
    raise AssertionError("the instances did not reach their states")


def node_states(dom: Dom) -> dict[str, str]:
    return {e["attrs"]["id"]: e["attrs"]["data-state"] for e in dom.find("g") if "data-state" in e["attrs"]}


def test_failed_instance_page_marks_the_failed_node_and_links_the_source(server, mid_run):
    url = f"{server}/instances/{mid_run['failed']}"
    dom = Dom(rendered(url))
    assert "PaymentDeclined" in dom.by_id("error")["text"]
    assert "charge" in dom.by_id("traceback")["text"]
    assert {e["attrs"].get("data-action") for e in dom.find("button")} == {"retry"}, "a failed instance offers Retry only"
    states = node_states(dom)
    failed = [id for id, state in states.items() if state == "failed"]
    assert len(failed) == 1, states
    # The failed node is the charge, its label in the SVG, and it links to its source line.
    node = [e for e in dom.find("g", id=failed[0])][0]
    assert "charge" in node["text"] and "node failed" in node["attrs"]["class"]
    links = [e for e in dom.elements if e["tag"] == "a" and "xlink:href" in e["attrs"] and "charge" in e["text"]]
    assert links and links[0]["attrs"]["xlink:href"].startswith("#L")
    line = links[0]["attrs"]["xlink:href"][1:]
    assert "charge(customer, total)" in dom.by_id(line)["text"]
    # What ran before it is done (the gather of reservations among them); the notify after it was never reached.
    assert list(states.values()).count("done") >= 3 and "running" not in states.values(), states
    notify = [e for e in dom.find("g") if e["attrs"].get("class", "").startswith("node") and "notify(" in e["text"]]
    assert notify and "data-state" not in notify[0]["attrs"]
    screenshot(url, "instance-failed")


def test_completed_instance_is_all_done_and_its_hostile_input_is_text(server, mid_run):
    url = f"{server}/instances/{mid_run['hostile']}"
    html = rendered(url)
    dom = Dom(html)
    body = dom.find("body")[0]
    # Chromium parsed the page and ran its scripts: the input's markup is text, nothing of it ran.
    assert "data-pwned" not in body["attrs"], body["attrs"]
    assert not dom.find("img", src="x")
    assert json.dumps(HOSTILE, separators=(",", ":")) in "".join(e["text"] for e in dom.find("pre"))
    states = node_states(dom)
    assert states and set(states.values()) == {"done"}, states


def test_retrying_instance_lists_its_attempts(server, mid_run):
    url = f"{server}/instances/{mid_run['retrying']}"
    dom = Dom(rendered(url))
    rows = [e for e in dom.find("tr") if "retrying" in e["attrs"].get("class", "")]
    assert rows, "no row for the action being retried"
    attempts = [e for e in dom.find("li") if "attempt" in e["attrs"].get("class", "")]
    assert len(attempts) >= 2 and all("ConnectionError" in e["text"] and "retry at" in e["text"] for e in attempts[:2])
    assert "attempt 1" in attempts[0]["text"] and "attempt 2" in attempts[1]["text"]
    states = node_states(dom)
    running = [id for id, state in states.items() if state == "running"]
    assert len(running) == 1 and "done" in states.values(), states
    assert "fetch_feed" in dom.find("g", id=running[0])[0]["text"]
    screenshot(url, "instance-retrying")


def test_sleeping_instance_waits_on_its_sleep_node(server, mid_run):
    url = f"{server}/instances/{mid_run['sleeping']}"
    dom = Dom(rendered(url))
    assert "sleeping" in dom.find("h1")[0]["text"]
    assert any("wakes at" in e["text"] for e in dom.find("tr", **{"class": "sleep"}))
    states = node_states(dom)
    running = [id for id, state in states.items() if state == "running"]
    assert len(running) == 1 and "sleep" in dom.find("g", id=running[0])[0]["text"], states
    # An unfinished instance offers Cancel (behind the token), not Retry.
    buttons = {e["attrs"].get("data-action") for e in dom.find("button")}
    assert "cancel" in buttons and "retry" not in buttons, buttons


def test_list_workflows_and_throughput_pages(server, mid_run):
    dom = Dom(rendered(f"{server}/instances"))
    statuses = {e["text"] for e in dom.find("span") if "status" in e["attrs"].get("class", "")}
    assert {"completed", "failed", "sleeping", "running"} <= statuses, statuses
    screenshot(f"{server}/instances", "instances", height=700)

    dom = Dom(rendered(f"{server}/instances?status=failed"))
    listed = [e["text"] for e in dom.find("a") if e["attrs"].get("href", "").startswith("/instances/")]
    assert listed == [mid_run["failed"]]

    dom = Dom(rendered(f"{server}/workflows"))
    names = {e["text"] for e in dom.find("a") if e["attrs"].get("href", "").startswith("/instances?workflow=")}
    assert {"Order", "Reminder", "FeedSync"} <= names, names
    assert len(dom.find("svg")) >= 3  # each workflow's DAG

    url = f"{server}/throughput"
    dom = Dom(rendered(url))
    # Six orders and three actions each at least; the figures come from the database.
    assert float(dom.by_id("actions-per-second")["text"]) >= 0
    assert int(dom.by_id("in-flight")["text"]) >= 0
    assert re.match(r"\d+ / \d+ / \d+", dom.by_id("workers")["text"])
    assert re.match(r"[\d.]+ (µs|ms) / [\d.]+ (µs|ms)", dom.by_id("dispatch-latency")["text"])
    bars = [e for e in dom.find("rect") if e["attrs"].get("class") == "actions"]
    assert bars, "no actions drawn"
    data = get_json(f"{server}/api/throughput?minutes=10")
    assert sum(bucket["actions"] for bucket in data["buckets"]) >= 6 * 3
    assert sum(bucket["completed"] for bucket in data["buckets"]) >= 4
    assert sum(bucket["failed"] for bucket in data["buckets"]) >= 1
    assert data["workers"]["alive"] >= 1 and data["workers"]["dispatch_latency_p99_seconds"] is not None
    screenshot(url, "throughput", height=800)


def test_a_change_without_the_token_is_refused(server, mid_run):
    request = urllib.request.Request(f"{server}/api/instances/{mid_run['failed']}/retry", method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 401
    assert get_json(f"{server}/api/instances/{mid_run['failed']}")["status"] == "failed"
