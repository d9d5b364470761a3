from __future__ import annotations

from sbsync.client import Replica
from tests.client.conftest import replica_view, server_view
from tests.factories import PASSWORD


def test_smoke(world, sync_server, tmp_path):
    replica = Replica(str(tmp_path / "r.sqlite3"), url=sync_server.url, username="alice", password=PASSWORD)
    report = replica.sync()
    print(report)
    assert replica_view(replica) == server_view(sync_server.url, "alice")
    pk = replica.save("shop.Customer", {"name": "New one", "age": 33})
    row = next(r for r in replica.rows("shop.Order"))
    replica.save("shop.Order", {"id": row["id"], "amount": "99.00"})
    report = replica.sync()
    print(report, replica.conflicts())
    assert replica_view(replica) == server_view(sync_server.url, "alice")
    assert replica.get("shop.Customer", pk)["name"] == "New one"
