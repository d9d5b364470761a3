"""The faults a deployment meets, each with its documented behaviour (README, "Production"): a worker
killed in the middle of a push, PostgreSQL restarted under load, Redis stopped, the log directory
unwritable or its disk full, the Huey consumer killed in the middle of a job, and app servers whose
clocks disagree. Each test brings the services it stopped back before it ends."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
import uuid
from contextlib import contextmanager

import pytest
import requests

from sbsync.demo.loadtest.client import ROLES, SyncClient
from sbsync.demo.loadtest.verify import verify
from tests.production.cluster import FAKETIME_LIB, AppServer, wait_for
from tests.production.load import drive, make_clients, statuses

BIG_BATCH = 800


def logged_in(urls, user="john_manager") -> SyncClient:
    client = SyncClient(requests.Session(), urls, ROLES[user], run=uuid.uuid4().hex[:8], name=user)
    client.login()
    return client


def customers(client: SyncClient, count: int) -> list[dict]:
    return [client.new_record("shop.Customer") for _ in range(count)]


def count_marked(postgres, client: SyncClient) -> int:
    return int(postgres.sql(f"SELECT count(*) FROM shop_customer WHERE name LIKE 'lt-{client.run}-%'"))


def wait_for_push_transaction(postgres, timeout: float = 30) -> None:
    """Until a push holds its row-key advisory locks: its transaction is open, nothing committed yet."""
    with postgres.connect() as conn:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if conn.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'").fetchone()[0]:
                return
            time.sleep(0.01)
    raise AssertionError("no push transaction started")


def health(url: str) -> tuple[int, dict]:
    answer = requests.get(url + "health/", timeout=10)
    return answer.status_code, answer.json()


def test_a_worker_killed_in_the_middle_of_a_push_leaves_nothing_torn_and_the_retry_applies_once(cluster):
    victim, other = cluster.servers
    client = logged_in([victim.url])
    body = {"data": customers(client, BIG_BATCH), "batch_id": f"{client.run}:killed-push"}
    headers = {"Authorization": f"Bearer {client.token}"}
    workers_before = victim.worker_pids()
    outcome: dict = {}

    def send():
        try:
            outcome["answer"] = requests.post(victim.url + "push/", json=body, headers=headers, timeout=60)
        except requests.RequestException as exc:
            outcome["error"] = exc

    sender = threading.Thread(target=send)
    sender.start()
    wait_for_push_transaction(cluster.postgres)
    for pid in workers_before:
        os.kill(pid, signal.SIGKILL)
    sender.join()
    applied_before_retry = count_marked(cluster.postgres, client)
    retry = requests.post(other.url + "push/", json=body, headers=headers, timeout=60)

    assert "answer" not in outcome, "the push was answered: the worker was not killed in the middle"
    assert applied_before_retry in (0, BIG_BATCH)  # all or nothing: never part of a batch
    assert retry.status_code == 200
    assert [r["status"] for r in retry.json()["results"]] == ["created"] * BIG_BATCH
    assert count_marked(cluster.postgres, client) == BIG_BATCH
    # A second retry replays the stored answer and writes nothing.
    again = requests.post(victim.url + "push/", json=body, headers=headers, timeout=60)
    assert again.json()["results"] == retry.json()["results"]
    assert count_marked(cluster.postgres, client) == BIG_BATCH
    # gunicorn replaced the killed workers; the server serves again.
    wait_for(lambda: len(victim.worker_pids()) == len(workers_before), "replacement workers")
    assert set(victim.worker_pids()).isdisjoint(workers_before)
    assert health(victim.url)[0] == 200


def test_postgresql_restarted_under_load_answers_json_503_then_resumes_without_losing_a_write(cluster):
    clients = make_clients(cluster.urls)
    for client in clients:
        client.max_attempts = 200
    workers = [server.worker_pids() for server in cluster.servers]
    stop = threading.Event()
    errors: list = []
    load = threading.Thread(target=lambda: errors.extend(drive(clients, 1000, stop)))
    load.start()
    time.sleep(3)

    cluster.postgres.stop()
    try:
        down = [health(url) for url in cluster.urls]
        time.sleep(2)  # requests in flight meet the stopped database
    finally:
        cluster.postgres.start()
    time.sleep(4)
    stop.set()
    load.join()
    up = [health(url) for url in cluster.urls]

    assert errors == []
    for status, body in down:
        assert status == 503
        assert body["checks"]["database"] == "unhealthy" and body["error"] == "unhealthy"
    seen = statuses(clients)
    assert seen[503] > 0, seen  # load did meet the outage
    assert [s for s in seen if s >= 500 and s != 503] == [], seen  # never a 500
    assert sum(client.stats.not_json for client in clients) == 0  # every error in the JSON shape
    assert all(status == 200 for status, _ in up)
    assert [server.worker_pids() for server in cluster.servers] == workers  # no worker restarted
    report = verify([client.state() for client in clients], cluster.urls)
    assert report.ok, report.problems


def test_with_redis_stopped_sync_push_and_pull_work_async_push_is_503_and_queued_jobs_run_after(cluster):
    client = logged_in(cluster.urls)
    headers = {"Authorization": f"Bearer {client.token}"}
    push_url = cluster.urls[0] + "push/"
    cluster.consumer.stop()
    queued_records = customers(client, 5)
    queued = requests.post(
        push_url, json={"data": queued_records, "async": True}, headers=headers, timeout=30
    )
    jobs_before = cluster.postgres.sql("SELECT count(*) FROM sbsync_syncjob")

    cluster.redis.stop()
    try:
        pushed = requests.post(push_url, json={"data": customers(client, 3)}, headers=headers, timeout=30)
        pulled = requests.post(
            cluster.urls[1] + "pull/", json={"models": {"shop.Customer": None}}, headers=headers, timeout=30
        )
        login = requests.post(
            cluster.urls[1] + "auth/token/",
            json={"username": "sue_support", "password": "sbsync-demo"},
            timeout=30,
        )
        refused = requests.post(
            push_url, json={"data": customers(client, 2), "async": True}, headers=headers, timeout=30
        )
        jobs_during = cluster.postgres.sql("SELECT count(*) FROM sbsync_syncjob")
        down = health(cluster.urls[0])
    finally:
        cluster.redis.start()
        cluster.consumer.start()
    status_url = queued.json()["status_url"]
    wait_for(
        lambda: requests.get(status_url, headers=headers, timeout=10).json()["status"] == "done",
        "the job",
        60,
    )

    assert queued.status_code == 202
    assert pushed.status_code == 200 and [r["status"] for r in pushed.json()["results"]] == ["created"] * 3
    assert pulled.status_code == 200 and pulled.json()["data"]
    assert login.status_code == 200 and login.json()["token"]
    assert refused.status_code == 503
    assert refused.json()["error"] == "queue_unavailable" and refused.headers["Retry-After"]
    assert jobs_during == jobs_before  # the refused job was not left behind
    assert down[0] == 503
    assert down[1]["checks"] == {
        "database": "healthy",
        "cache": "unhealthy",
        "logging": "healthy",
        "task_queue": "unhealthy",
        "memory": "healthy",
        "performance": "healthy",
    }
    job = requests.get(status_url, headers=headers, timeout=10).json()
    assert [r["status"] for r in job["result"]["results"]] == ["created"] * 5
    assert count_marked(cluster.postgres, client) == 5 + 3
    assert health(cluster.urls[0])[0] == 200


@contextmanager
def mounted_tmpfs(path, size: str):
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], check=True)
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=True)


@pytest.mark.skipif(os.geteuid() != 0, reason="mounts a small tmpfs as the log directory (needs root)")
def test_unwritable_log_directory_or_full_disk_requests_succeed_and_health_reports_logging(cluster):
    client = logged_in(cluster.urls)
    logs = cluster.deployment.directory / "data" / "logs"

    def exercise() -> tuple[int, int, tuple[int, dict]]:
        pushed = client.call("push/", {"data": customers(client, 2)})
        client.pull_to_end()
        return len(pushed["results"]), client.stats.statuses.get(200, 0), health(cluster.urls[0])

    with mounted_tmpfs(logs, "1m"):
        subprocess.run(["mount", "-o", "remount,ro", str(logs)], check=True)
        unwritable = exercise()
        subprocess.run(["mount", "-o", "remount,rw", str(logs)], check=True)
        subprocess.run(["dd", "if=/dev/zero", f"of={logs / 'filler'}", "bs=64k"], capture_output=True)
        full = exercise()
    after = health(cluster.urls[0])

    for results, _ok, (status, body) in (unwritable, full):
        assert results == 2
        assert status == 503
        assert body["checks"]["logging"] == "unhealthy"
        assert body["checks"]["database"] == "healthy"
    assert sum(v for k, v in client.stats.statuses.items() if k >= 400) == 0
    assert count_marked(cluster.postgres, client) == 4
    assert "Cannot write the sync log file" in cluster.servers[0].log_text() + cluster.servers[1].log_text()
    assert after[0] == 200


def test_consumer_killed_in_the_middle_of_a_job_runs_it_again_and_applies_it_once(cluster):
    client = logged_in(cluster.urls)
    headers = {"Authorization": f"Bearer {client.token}"}
    for _ in range(3):  # until the kill lands inside the job's transaction
        accepted = requests.post(
            cluster.urls[0] + "push/",
            json={"data": customers(client, BIG_BATCH), "async": True},
            headers=headers,
            timeout=30,
        ).json()
        code = accepted["job"]
        wait_for_push_transaction(cluster.postgres)
        cluster.consumer.kill()
        state = cluster.postgres.sql(f"SELECT status, attempts FROM sbsync_syncjob WHERE code = '{code}'")
        if state == "running|1":
            break
        cluster.consumer.start()
    else:
        pytest.fail("the consumer finished every job before it was killed")
    applied_when_killed = count_marked(cluster.postgres, client) % BIG_BATCH

    cluster.consumer.start()
    wait_for(
        lambda: requests.get(accepted["status_url"], headers=headers, timeout=10).json()["status"] == "done",
        "the job to run again",
        60,
    )

    job = requests.get(accepted["status_url"], headers=headers, timeout=10).json()
    assert applied_when_killed == 0  # the cut-off run left nothing behind
    assert [r["status"] for r in job["result"]["results"]] == ["created"] * BIG_BATCH
    assert (
        cluster.postgres.sql(f"SELECT status, attempts FROM sbsync_syncjob WHERE code = '{code}'") == "done|2"
    )
    assert count_marked(cluster.postgres, client) % BIG_BATCH == 0
    markers = cluster.postgres.sql(
        f"SELECT count(*), count(DISTINCT name) FROM shop_customer WHERE name LIKE 'lt-{client.run}-%'"
    )
    total, distinct = (int(x) for x in markers.split("|"))
    assert total == distinct  # no row twice
    assert "interrupted; queued again" in cluster.consumer.log_text()


@pytest.mark.skipif(not FAKETIME_LIB.exists(), reason="needs libfaketime (.ci/test installs it)")
def test_an_app_server_with_its_clock_minutes_ahead_keeps_pulls_exact(cluster):
    skewed = AppServer(
        cluster.deployment,
        "app-skewed",
        env={"LD_PRELOAD": str(FAKETIME_LIB), "FAKETIME": "+7m", "FAKETIME_DONT_FAKE_MONOTONIC": "1"},
        options=["--config", "python:tests.production.skewed_clock"],
    )
    skewed.start()
    try:
        urls = [cluster.servers[0].url, skewed.url]
        ahead = requests.get(skewed.url + "health/", timeout=10).json()["timestamp"]
        now = requests.get(cluster.servers[0].url + "health/", timeout=10).json()["timestamp"]
        clients = make_clients(urls)
        errors = drive(clients, 5)
    finally:
        skewed.stop()

    assert ahead[:16] > now[:16]  # the skewed server's clock does run ahead
    assert errors == []
    assert [s for s in statuses(clients) if s >= 500] == []
    report = verify([client.state() for client in clients], [cluster.servers[0].url])
    assert report.ok, report.problems
