"""With a database: `await W().run(...)` queues in Postgres and a separate `waymark-start-workers`
process runs it. Needs WAYMARK_TEST_DATABASE_URL (`.ci/run` starts a throwaway server); under CI
a missing database fails these tests instead of skipping them."""

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
import uuid

import pytest

from conftest import APP
from shop.flows import Checkout, OutOfStock, Pair, Receipt

BASE_URL = os.environ.get("WAYMARK_TEST_DATABASE_URL")
if not BASE_URL:
    if os.environ.get("CI"):
        pytest.fail("WAYMARK_TEST_DATABASE_URL is not set under CI", pytrace=False)
    pytest.skip("no WAYMARK_TEST_DATABASE_URL", allow_module_level=True)


@pytest.fixture(scope="module")
def database():
    """A database of its own for this module."""
    import psycopg

    name = f"waymark_pytest_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(BASE_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    yield BASE_URL.rsplit("/", 1)[0] + "/" + name


class Workers:
    """`waymark-start-workers` in its own process, as an app deploys it."""

    def __init__(self, url: str, environment: dict) -> None:
        self.url = url
        self.environment = environment
        self.process: subprocess.Popen | None = None
        self.log: list[str] = []

    def start(self) -> None:
        env = dict(self.environment, WAYMARK_DATABASE_URL=self.url, WAYMARK_USER_MODULE="shop.flows",
                   PYTHONPATH=os.pathsep.join([str(APP), *sys.path]))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "waymark.start_workers", "--workers", "2", "--quiet",
             "--lease-ttl-ms", "1500", "--heartbeat-ms", "300"],
            cwd=APP, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        # Serving once it says so (it compiles first).
        assert self.process.stderr is not None
        for line in self.process.stderr:
            if "serving" in line and "as" in line and "waymark-run" in line:
                # Keep reading: a server whose stderr pipe fills up blocks on its next log line.
                threading.Thread(target=self.drain, args=(self.process.stderr,), daemon=True).start()
                return
        raise AssertionError(f"waymark-start-workers exited with {self.process.wait()}")

    def drain(self, stream) -> None:
        for line in stream:
            self.log.append(line)

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def durable(database, monkeypatch):
    monkeypatch.setenv("WAYMARK_DATABASE_URL", database)
    monkeypatch.setenv("WAYMARK_PYTEST_DATABASE", "1")
    monkeypatch.setenv("WAYMARK_CLIENT_POLL_SECONDS", "1")
    workers = Workers(database, dict(os.environ))
    workers.start()
    yield workers
    workers.stop()


def expected(i: int) -> Receipt:
    return Receipt(user=f"u{i}", total=50 * (i % 3 + 1))


def test_a_thousand_concurrent_runs_all_return_their_results(durable):
    async def main():
        return await asyncio.gather(*[Checkout().run(f"u{i}", ["apple"] * (i % 3 + 1)) for i in range(1000)])

    results = asyncio.run(main())
    assert results == [expected(i) for i in range(1000)]


def test_results_survive_the_server_killed_and_restarted(durable):
    async def main():
        runs = [asyncio.ensure_future(Checkout().run(f"u{i}", ["apple"] * (i % 3 + 1))) for i in range(600)]
        await asyncio.sleep(0.5)
        durable.kill()  # SIGKILL: no hand-back; leases must expire
        durable.start()
        return await asyncio.gather(*runs)

    assert asyncio.run(main()) == [expected(i) for i in range(600)]


def test_exceptions_values_and_sync_use(durable):
    assert Pair().run_sync(1) == (1, 2)
    with pytest.raises(OutOfStock, match="no unobtainium left"):
        Checkout().run_sync("ada", ["unobtainium"])
    with pytest.raises(TypeError, match="'a'"):
        Pair().run_sync()
    from shop.flows import Limited, RateLimited

    with pytest.raises(RateLimited) as raised:
        Limited().run_sync("maps")
    assert raised.value.wait_seconds == 30 and any("call_api" in note for note in raised.value.__notes__)


def test_handles_and_a_cancelled_wait_leave_the_instance_running(durable):
    async def main():
        handle = await Checkout().run("ada", ["apple", "kiwi"], _blocking=False)
        assert len(handle.id) == 36
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(handle.result(), 0.001)
        assert await handle.result(timeout=60) == Receipt(user="ada", total=90)
        assert (await handle.status()).status == "completed"
        again = Checkout.handle(handle.id)
        assert await again.result() == Receipt(user="ada", total=90)
        with pytest.raises(LookupError, match="no failed instance"):
            await handle.retry()
        batch = await Checkout.enqueue_many([{"user": f"u{i}", "items": ["apple"] * (i % 3 + 1)} for i in range(50)])
        return [await h.result(timeout=60) for h in batch]

    assert asyncio.run(main()) == [expected(i) for i in range(50)]


def test_an_unreachable_database_is_a_connection_error_without_the_password(monkeypatch):
    monkeypatch.setenv("WAYMARK_DATABASE_URL", "postgresql://app:s3cret-pw@127.0.0.1:1/nothing")
    monkeypatch.setenv("WAYMARK_PYTEST_DATABASE", "1")
    with pytest.raises(ConnectionError) as raised:
        asyncio.run(Pair().run(1))
    assert "s3cret-pw" not in str(raised.value)


def test_schedules_start_instances_and_are_managed_by_name(durable):
    from datetime import timedelta

    from waymark import delete_schedule, list_schedules, pause_schedule, resume_schedule, schedule_workflow
    from waymark.schedules import ScheduleError

    async def main():
        with pytest.raises(ScheduleError, match="hour field: 25 is out of range"):
            await schedule_workflow(Pair, schedule_name="bad", schedule="0 25 * * *", inputs={"a": 1})
        with pytest.raises(ScheduleError, match="expected int"):
            await schedule_workflow(Pair, schedule_name="bad", schedule=timedelta(seconds=1), inputs={"a": "x"})
        await schedule_workflow(Pair, schedule_name="every-second", schedule=timedelta(seconds=1), inputs={"a": 7})
        await schedule_workflow(Pair, schedule_name="nightly", schedule="0 3 * * *", time_zone="Europe/Paris", inputs={"a": 1})
        listed = {s.schedule_name: s for s in await list_schedules()}
        assert listed["nightly"].cron_expression == "0 3 * * *" and listed["nightly"].time_zone == "Europe/Paris"
        assert listed["every-second"].interval_seconds == 1.0 and listed["every-second"].status == "active"
        assert await pause_schedule(Pair, schedule_name="nightly")
        assert [s.schedule_name for s in await list_schedules(status_filter="paused")] == ["nightly"]
        assert await resume_schedule(Pair, schedule_name="nightly")
        assert await delete_schedule(Pair, schedule_name="nightly")
        assert not await delete_schedule(Pair, schedule_name="nightly")
        # The running server fires the interval schedule: its instances complete with (7, 2).
        import psycopg

        deadline = asyncio.get_running_loop().time() + 30
        async with await psycopg.AsyncConnection.connect(os.environ["WAYMARK_DATABASE_URL"], autocommit=True) as connection:
            while True:
                rows = await (await connection.execute(
                    "SELECT result FROM waymark_instances WHERE schedule_name = 'every-second' AND status = 'completed'")).fetchall()
                if len(rows) >= 2 or asyncio.get_running_loop().time() > deadline:
                    break
                await asyncio.sleep(0.2)
        assert len(rows) >= 2, "the server started no scheduled instances"
        assert await delete_schedule(Pair, schedule_name="every-second")

    asyncio.run(main())


def test_a_failed_instance_retried_from_python_resumes_and_completes(durable):
    import uuid

    from shop.flows import Flaky, state_directory

    name = f"x{uuid.uuid4().hex[:8]}"  # counters of its own (the workers' state is under /tmp)

    async def main():
        handle = await Flaky().run(name, _blocking=False)
        with pytest.raises(RuntimeError, match="first attempt fails"):
            await handle.result(timeout=60)
        await handle.retry()
        return await handle.result(timeout=60)

    assert asyncio.run(main()) == f"{name} ok"
    with open(os.path.join(state_directory(), f"step-{name}")) as counter:
        assert counter.read() == "1", "the completed step did not run again"


def test_a_sleeping_instance_cancelled_from_python_runs_its_finally_and_ends_cancelled(durable):
    from shop.flows import Patient, state_directory

    name = f"p{uuid.uuid4().hex[:8]}"

    async def main():
        handle = await Patient().run(name, _blocking=False)
        for _ in range(600):
            if (await handle.status()).status == "sleeping":
                break
            await asyncio.sleep(0.05)
        assert (await handle.status()).status == "sleeping"
        assert await handle.cancel() is False, "requested, not cancelled before it started"
        with pytest.raises(asyncio.CancelledError):
            await handle.result(timeout=60)
        assert (await handle.status()).status == "cancelled"
        with pytest.raises(LookupError, match="has ended"):
            await handle.cancel()

    asyncio.run(main())
    with open(os.path.join(state_directory(), f"step-{name}-cleanup")) as counter:
        assert counter.read() == "1", "the finally block's action ran once"
