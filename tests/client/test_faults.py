"""Under each network fault, repeated ``sync()`` calls end with the replica equal to the server's view of
its user, every local write applied exactly once on the server and no duplicate rows."""

from __future__ import annotations

import pytest

from sbsync.client import NetworkError, Replica, RetryPolicy
from sbsync.demo.shop.models import Customer, Order
from tests.client.conftest import replica_view, server_view
from tests.client.proxy import FaultProxy
from tests.client.servers import free_port
from tests.factories import PASSWORD

FAST = RetryPolicy(attempts=6, base=0.01, cap=0.05)


def every_other(fault: str):
    """Requests 0, 2, 4, … get the fault: every request the client makes meets it once, and its retry
    gets through."""
    return lambda number, method, path: fault if number % 2 == 0 else "pass"


def sync_until_done(replica: Replica, tries: int = 10):
    for _ in range(tries):
        try:
            return replica.sync()
        except NetworkError:
            continue
    raise AssertionError("sync never completed")


def local_writes(replica: Replica, world) -> dict[str, list]:
    """Creates, updates and deletes of customers, and an update of an order, made offline."""
    created = [replica.save("shop.Customer", {"name": f"Offline {n}", "age": 40 + n}) for n in range(3)]
    existing = sorted(replica.rows("shop.Customer"), key=lambda row: row["name"])
    updated = [existing[0]["id"], existing[1]["id"]]
    for n, pk in enumerate(updated):
        replica.save("shop.Customer", {"id": pk, "age": 70 + n})
    replica.save("shop.Customer", {"id": created[0], "name": "Offline 0, renamed"})
    deleted = existing[2]["id"]
    replica.delete("shop.Customer", deleted)
    order = next(row for row in replica.rows("shop.Order") if row["customer"] not in (deleted,))
    replica.save("shop.Order", {"id": order["id"], "status": "PAID"})
    return {"created": created, "updated": updated, "deleted": [deleted], "order": [order["id"]]}


def assert_applied_once(writes: dict[str, list]) -> None:
    for pk in writes["created"]:
        assert Customer.history.filter(id=pk, history_type="+").count() == 1
        assert Customer.history.filter(id=pk, history_type="~").count() == 0  # the rename merged locally
    assert Customer.objects.get(id=writes["created"][0]).name == "Offline 0, renamed"
    for pk in writes["updated"]:
        assert Customer.history.filter(id=pk, history_type="~").count() == 1
    assert Customer.history.filter(id=writes["deleted"][0], history_type="-").count() == 1
    assert not Customer.objects.filter(id=writes["deleted"][0]).exists()
    assert Order.history.filter(id=writes["order"][0], history_type="~").count() == 1
    assert Order.objects.get(id=writes["order"][0]).status == "PAID"
    names = list(Customer.objects.filter(organization__slug="acme").values_list("name", flat=True))
    assert len(names) == len(set(names)) == 6 + 3 - 1


@pytest.mark.parametrize("fault", ["cut_before", "cut_after", "delay", "duplicate"])
def test_faults_leave_the_replica_equal_to_the_server_and_every_write_applied_once(
    fault, world, sync_server, tmp_path
):
    timeout = 1.0 if fault == "delay" else 30  # delayed answers arrive after the client gave up
    with FaultProxy(sync_server.port, free_port(), every_other(fault), delay=2.0) as proxy:
        replica = Replica(
            str(tmp_path / "alice.sqlite3"),
            url=proxy.url,
            username="alice",
            password=PASSWORD,
            retry=FAST,
            timeout=timeout,
            batch_size=4,
            push_batch_size=3,
        )
        sync_until_done(replica)
        writes = local_writes(replica, world)
        sync_until_done(replica)
        sync_until_done(replica)

    assert proxy.counts()[fault] >= 8  # logins, models/, every push batch and pull page met the fault
    # What a sync reports is lost with it when it fails; the file and the server are what count.
    assert replica.pending() == 0 and replica.conflicts() == []
    assert_applied_once(writes)
    view = server_view(sync_server.url, "alice")
    assert replica_view(replica) == view
    assert "Globex 0" not in {row["name"] for row in view["shop.Customer"].values()}
