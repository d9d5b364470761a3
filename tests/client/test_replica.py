"""The replica's rules, against the live server: conflict resolutions, 410, lost access, schema drift,
expired tokens, throttling and 5xx, async push jobs."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta

import pytest
from django.utils import timezone
from knox.models import AuthToken

from sbsync.client import (
    AuthenticationError,
    Conflict,
    Replica,
    RetryPolicy,
    SyncInProgress,
    client_wins,
    merge,
)
from sbsync.client import pull as client_pull
from sbsync.client.report import SyncReport
from sbsync.client.transport import Transport
from sbsync.demo.shop.models import Customer, Report
from sbsync.models import ModelPermission, SyncJob
from sbsync.sync.changes.index import compact_tombstones
from tests.client.conftest import replica_view, server_view
from tests.client.proxy import FaultProxy
from tests.client.servers import free_port
from tests.factories import PASSWORD


def open_replica(tmp_path, server, username="alice", **options) -> Replica:
    return Replica(
        str(tmp_path / f"{username}.sqlite3"), url=server.url, username=username, password=PASSWORD, **options
    )


def conflicting_edit(replica: Replica, name: str) -> str:
    """A local edit of customer ``name`` and a concurrent edit of the same row on the server."""
    row = next(row for row in replica.rows("shop.Customer") if row["name"] == name)
    replica.save("shop.Customer", {"id": row["id"], "age": 99})
    customer = Customer.objects.get(id=row["id"])
    customer.name = f"{name} (server)"
    customer.save()
    return row["id"]


def test_server_wins_by_default_and_the_local_change_is_kept_with_both_versions(world, sync_server, tmp_path):
    replica = open_replica(tmp_path, sync_server)
    replica.sync()
    base = replica.get(
        "shop.Customer", next(r["id"] for r in replica.rows("shop.Customer") if r["name"] == "Acme 1")
    )
    pk = conflicting_edit(replica, "Acme 1")

    report = replica.sync()

    assert report.conflicts == 1 and report.pushed == 0
    assert Customer.objects.get(id=pk).age == base["age"]  # not overwritten
    assert replica.get("shop.Customer", pk)["name"] == "Acme 1 (server)"
    assert replica.get("shop.Customer", pk)["age"] == base["age"]
    [conflict] = replica.conflicts()
    assert conflict["kind"] == "conflict" and conflict["resolution"] == "server"
    assert conflict["local"] == {"age": 99} and conflict["base_version"] == base["_version"]
    assert conflict["server"]["name"] == "Acme 1 (server)" and conflict["server_version"] > base["_version"]
    assert replica_view(replica) == server_view(sync_server.url, "alice")


def test_client_wins_pushes_the_change_again_on_the_current_version(world, sync_server, tmp_path):
    replica = open_replica(tmp_path, sync_server, on_conflict=client_wins)
    replica.sync()
    pk = conflicting_edit(replica, "Acme 2")

    report = replica.sync()

    customer = Customer.objects.get(id=pk)
    assert (customer.name, customer.age) == ("Acme 2 (server)", 99)
    assert report.conflicts == 1 and report.pushed == 1
    assert [(c["kind"], c["resolution"]) for c in replica.conflicts()] == [("conflict", "client")]
    assert replica_view(replica) == server_view(sync_server.url, "alice")


def test_a_merge_pushes_the_fields_the_callback_chose(world, sync_server, tmp_path):
    seen: list[Conflict] = []

    def keep_both(conflict: Conflict):
        seen.append(conflict)
        return merge({"name": conflict.server["name"] + " + local", "age": conflict.local["age"]})

    replica = open_replica(tmp_path, sync_server, on_conflict=keep_both)
    replica.sync()
    pk = conflicting_edit(replica, "Acme 3")

    replica.sync()

    customer = Customer.objects.get(id=pk)
    assert (customer.name, customer.age) == ("Acme 3 (server) + local", 99)
    assert seen[0].server_known and seen[0].local == {"age": 99}
    assert replica_view(replica) == server_view(sync_server.url, "alice")


def test_a_410_pulls_the_model_again_and_keeps_unsent_changes(world, sync_server, tmp_path):
    replica = open_replica(tmp_path, sync_server, batch_size=2)
    replica.sync()
    gone = Customer.objects.get(name="Acme 4")
    gone.delete()  # its tombstone (and its order's) is positioned by bob's pull, then compacted
    server_view(sync_server.url, "bob")
    assert compact_tombstones(older_than=timezone.now() + timedelta(seconds=1)) >= 1
    kept = next(row for row in replica.rows("shop.Customer") if row["name"] == "Acme 0")
    replica.save("shop.Customer", {"id": kept["id"], "age": 55})  # made after this sync's push phase

    report = SyncReport()
    replica.refresh_models(report)
    client_pull.pull_all(replica, report)

    assert "shop.Customer" in report.resynced
    assert replica.get("shop.Customer", str(gone.id)) is None
    assert replica.get("shop.Customer", kept["id"])["age"] == 55 and replica.pending() == 1
    replica.sync()
    assert Customer.objects.get(id=kept["id"]).age == 55
    assert replica_view(replica) == server_view(sync_server.url, "alice")


def test_a_model_the_role_loses_is_dropped_and_its_unsent_changes_kept_as_conflicts(
    world, sync_server, tmp_path
):
    replica = open_replica(tmp_path, sync_server)
    replica.sync()
    report_row = next(replica.rows("shop.Report"))
    replica.save("shop.Report", {"id": report_row["id"], "results": "edited offline"})
    ModelPermission.objects.filter(organization=world.acme, model_label="shop.Report").delete()

    report = replica.sync()

    assert report.dropped == ["shop.Report"] and "shop.Report" not in replica.models()
    assert Report.objects.get(id=report_row["id"]).results != "edited offline"
    [dropped] = replica.conflicts()
    assert (dropped["model"], dropped["kind"], dropped["local"]) == (
        "shop.Report",
        "dropped",
        {"results": "edited offline"},
    )
    with sqlite3.connect(tmp_path / "alice.sqlite3") as local:
        tables = {row[0] for row in local.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "shop.Report" not in tables
    assert replica_view(replica) == server_view(sync_server.url, "alice")


def test_a_field_the_server_added_gets_a_column_and_its_values(world, sync_server, tmp_path):
    """An older replica (its file written before the server had ``age``) catches up: the column is added
    and the model pulled again, keeping the unsent change."""
    replica = open_replica(tmp_path, sync_server)
    replica.sync()
    pk = next(row["id"] for row in replica.rows("shop.Customer"))
    replica.save("shop.Customer", {"id": pk, "name": "Renamed offline"})
    db = replica.store.db
    db.execute('ALTER TABLE "shop.Customer" DROP COLUMN age')
    description = json.loads(
        db.execute("SELECT description FROM sbsync_models WHERE label = 'shop.Customer'").fetchone()[0]
    )
    description["fields"] = [f for f in description["fields"] if f["name"] != "age"]
    db.execute(
        "UPDATE sbsync_models SET description = ? WHERE label = 'shop.Customer'", (json.dumps(description),)
    )
    replica.store._columns.clear()

    report = replica.sync()

    assert report.resynced == ["shop.Customer"]
    assert Customer.objects.get(id=pk).name == "Renamed offline"
    assert {row["age"] for row in replica.rows("shop.Customer")} >= {20, 21}
    assert replica_view(replica) == server_view(sync_server.url, "alice")


def test_an_expired_token_logs_in_again_or_fails_clearly(world, sync_server, tmp_path):
    replica = open_replica(tmp_path, sync_server)
    replica.sync()
    AuthToken.objects.filter(user=world.users["alice"]).delete()
    replica.save("shop.Customer", {"name": "After expiry"})

    replica.sync()  # logs in again with the password

    assert Customer.objects.filter(name="After expiry").count() == 1
    token = replica.store.meta("token")
    replica.close()
    AuthToken.objects.filter(user=world.users["alice"]).delete()
    without_password = Replica(str(tmp_path / "alice.sqlite3"), url=sync_server.url, token=token)
    without_password.save("shop.Customer", {"name": "Kept for later"})
    with pytest.raises(AuthenticationError, match="Log in again"):
        without_password.sync()
    assert without_password.pending() == 1


@pytest.mark.parametrize("fault", ["throttle", "unavailable"])
def test_429_and_5xx_are_retried_with_backoff_honouring_retry_after(fault, world, sync_server):
    waits: list[float] = []
    faults = lambda number, method, path: fault if number < 2 else "pass"  # noqa: E731
    with FaultProxy(sync_server.port, free_port(), faults) as proxy:
        transport = Transport(
            proxy.url,
            username="alice",
            password=PASSWORD,
            retry=RetryPolicy(base=0.5, cap=10),
            sleep=waits.append,
        )
        answer = transport.request("GET", "models/")
        transport.close()
    assert answer.status == 200 and [m["model"] for m in answer.body["models"]][0] == "shop.Customer"
    if fault == "throttle":
        assert waits == [1.0, 1.0]
    else:
        assert len(waits) == 2 and 0 <= waits[0] <= 0.5 and 0 <= waits[1] <= 1.0


def test_a_large_outbox_goes_through_async_push_jobs(world, sync_server, tmp_path):
    replica = open_replica(tmp_path, sync_server, async_push_over=3, push_batch_size=4)
    replica.sync()
    for n in range(10):
        replica.save("shop.Customer", {"name": f"Async {n}"})

    report = replica.sync()

    assert report.pushed == 10
    assert SyncJob.objects.filter(user=world.users["alice"]).count() == 3
    assert Customer.objects.filter(name__startswith="Async ").count() == 10
    assert replica_view(replica) == server_view(sync_server.url, "alice")


def test_sally_sees_only_her_rows_and_a_rejected_create_rolls_back(world, sync_server, tmp_path):
    replica = open_replica(tmp_path, sync_server, username="sally")
    replica.sync()
    pk = replica.save("shop.Customer", {"name": "For alice", "assigned_manager": world.users["alice"].pk})

    report = replica.sync()

    assert report.conflicts == 1 and replica.get("shop.Customer", pk) is None
    assert not Customer.objects.filter(name="For alice").exists()
    [rejected] = replica.conflicts()
    assert rejected["kind"] == "rejected" and rejected["errors"]
    view = replica_view(replica)
    assert {row["assigned_manager"] for row in view["shop.Customer"].values()} == {world.users["sally"].pk}
    assert set(view) == {"shop.Customer"} and view == server_view(sync_server.url, "sally")


def test_one_sync_of_a_file_at_a_time(world, sync_server, tmp_path):
    first = open_replica(tmp_path, sync_server)
    first.sync()
    second = Replica(str(tmp_path / "alice.sqlite3"))
    second.save("shop.Customer", {"name": "While another syncs"})  # local writes go on meanwhile

    with first.store.sync_lock(), pytest.raises(SyncInProgress):
        second.sync()

    assert second.pending() == 1 and not Customer.objects.filter(name="While another syncs").exists()
    first.sync()
    assert Customer.objects.filter(name="While another syncs").count() == 1 and second.pending() == 0
