"""SIGKILL in the middle of things: the server in the middle of a push (then restarted), the client in
the middle of a pull and of a push (then run again). Same end state, nothing lost or duplicated."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import pytest
from django.db import connection

from sbsync.client import NetworkError, Replica, RetryPolicy
from sbsync.demo.shop.models import Customer
from sbsync.sync.changes.tracking import mark_changed
from tests.client.conftest import replica_view, server_view
from tests.client.proxy import FaultProxy
from tests.client.servers import ROOT, Server, free_port
from tests.factories import PASSWORD

QUICK = RetryPolicy(attempts=2, base=0.01, cap=0.02)


@pytest.mark.slow
def test_server_killed_in_the_middle_of_pushes_then_restarted(world, sync_server, tmp_path):
    """Rounds of 200 offline creates pushed in one batch; the server is SIGKILLed 0, 0.1 and 0.25 s
    after the push is forwarded, and in the last round right after it answered (committed) but before the
    answer reached the client. Each time the client fails, the server restarts, and the next sync() ends
    with each row created once."""
    server = Server(connection.settings_dict["NAME"], port=free_port()).start()
    plan = [0.0, 0.1, 0.25, "after the answer"]
    state = {"round": -1, "armed": False}

    def kill_during_push(number, method, path):
        if not (path.endswith("/push/") and state["armed"]):
            return "pass"
        state["armed"] = False
        when = plan[state["round"]]
        if isinstance(when, str):
            return "cut_after"  # on_cut_after kills the server once it has answered
        threading.Timer(when, server.kill).start()
        return "pass"

    committed, in_flight = [], []
    try:
        with FaultProxy(server.port, free_port(), kill_during_push, on_cut_after=server.kill) as proxy:
            replica = Replica(
                str(tmp_path / "alice.sqlite3"),
                url=proxy.url,
                username="alice",
                password=PASSWORD,
                retry=QUICK,
                push_batch_size=200,
            )
            replica.sync()
            for round_ in range(len(plan)):
                names = [f"Round {round_} #{n}" for n in range(200)]
                for name in names:
                    replica.save("shop.Customer", {"name": name})
                state.update(round=round_, armed=True)
                with pytest.raises(NetworkError):
                    replica.sync()
                assert server.process.poll() is not None, "the server was not killed"
                committed.append(Customer.objects.filter(name__in=names).count())
                in_flight.append(replica.status()["batches_in_flight"])
                server.start()
                replica.sync()
                assert replica.pending() == 0
                assert Customer.objects.filter(name__in=names).count() == 200
    finally:
        server.stop()

    # Killed before its commit, the batch was applied by the retry; killed after it, the retry replayed
    # the stored answer. Either way each row exists once and was created once.
    assert set(committed) <= {0, 200} and committed[0] == 0 and committed[-1] == 200
    assert in_flight[0] == in_flight[-1] == 1
    assert Customer.objects.filter(name__startswith="Round ").count() == 800
    assert Customer.history.filter(name__startswith="Round ", history_type="+").count() == 800
    assert replica_view(replica) == server_view(sync_server.url, "alice")


def _run_client(db: str, url: str, *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sbsync.client",
            "sync",
            "--db",
            db,
            "--url",
            url,
            "--username",
            "alice",
            "--quiet",
            *extra,
        ],
        cwd=ROOT,
        env={**os.environ, "SBSYNC_PASSWORD": PASSWORD},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _wait_for(db: str, query: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read().decode()
        try:
            with sqlite3.connect(db, timeout=1) as local:
                if local.execute(query).fetchone()[0]:
                    return
        except sqlite3.OperationalError:
            pass  # the file or its tables are not there yet
        time.sleep(0.01)
    raise AssertionError(f"never saw {query}")


def test_client_killed_in_the_middle_of_a_pull_then_run_again(world, sync_server, tmp_path):
    Customer.objects.bulk_create(
        Customer(organization=world.acme, name=f"Bulk {n:04}", age=n % 100) for n in range(1500)
    )
    mark_changed(Customer.objects.filter(name__startswith="Bulk "))
    db = str(tmp_path / "alice.sqlite3")

    first = _run_client(db, sync_server.url, "--batch-size", "20")
    _wait_for(db, 'SELECT count(*) > 100 FROM "shop.Customer"', first)
    first.send_signal(signal.SIGKILL)
    first.wait()
    with sqlite3.connect(db) as local:
        partial = local.execute('SELECT count(*) FROM "shop.Customer"').fetchone()[0]
        unfinished = local.execute(
            "SELECT count(*) FROM sbsync_models WHERE pull = 1 AND synced = 0"
        ).fetchone()[0]

    second = _run_client(db, sync_server.url, "--batch-size", "500")
    output = second.communicate(timeout=120)[0].decode()

    assert 100 < partial < 1506 and unfinished >= 1
    assert second.returncode == 0, output
    with Replica(db) as replica:
        assert replica_view(replica) == server_view(sync_server.url, "alice")
        assert replica.count("shop.Customer") == 1506


def test_client_killed_in_the_middle_of_a_push_then_run_again(world, sync_server, tmp_path):
    db = str(tmp_path / "alice.sqlite3")
    with Replica(db, url=sync_server.url, username="alice", password=PASSWORD) as replica:
        replica.sync()
        for n in range(600):
            replica.save("shop.Customer", {"name": f"Offline {n:03}"})

    first = _run_client(db, sync_server.url, "--push-batch-size", "100")
    _wait_for(db, "SELECT count(*) FROM sbsync_batches", first)
    time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait()
    with sqlite3.connect(db) as local:
        pending = local.execute("SELECT count(*) FROM sbsync_outbox").fetchone()[0]

    second = _run_client(db, sync_server.url)
    output = second.communicate(timeout=120)[0].decode()

    assert 0 < pending <= 600
    assert second.returncode == 0, output
    assert Customer.objects.filter(name__startswith="Offline ").count() == 600
    assert Customer.history.filter(name__startswith="Offline ", history_type="+").count() == 600
    with Replica(db) as replica:
        assert replica.pending() == 0
        assert replica_view(replica) == server_view(sync_server.url, "alice")
