"""The real WatermelonDB client (@nozbe/watermelondb 0.28 from npm, LokiJS in memory, in Node) syncing with
the demo served by pytest-django's live server, on the test database (SQLite or PostgreSQL).

Each journey drives e2e/watermelon/client.js (``WatermelonClient``) and asserts the client's database
against the server's rows. ``.ci/test`` installs Node and ``npm ci`` the client's packages.
"""

from __future__ import annotations

import calendar
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from django.core.management import call_command

from sbsync.demo.shop.models import Customer, Order, Report
from sbsync.demo.shop.seed import PASSWORD
from sbsync.enums import LogStatus, Operation
from sbsync.models import DataFilter, ModelPermission, SyncLog
from sbsync.sync.changes.tracking import mark_changed

CLIENT = Path(__file__).parent / "watermelon" / "client.js"
NODE_MODULES = CLIENT.parent / "node_modules" / "@nozbe" / "watermelondb"

pytestmark = pytest.mark.django_db(transaction=True)


def milliseconds(moment) -> int:
    return calendar.timegm(moment.utctimetuple()) * 1000 + moment.microsecond // 1000


def customer_raw(customer: Customer) -> dict:
    return {
        "id": str(customer.id),
        "name": customer.name,
        "age": customer.age,
        "department": customer.department,
        "assigned_manager_id": str(customer.assigned_manager_id) if customer.assigned_manager_id else None,
        "updated_at": milliseconds(customer.updated_at),
    }


def rows(tables: dict, table: str) -> dict[str, dict]:
    """The client's records of a table by id, without WatermelonDB's bookkeeping."""
    return {r["id"]: {k: v for k, v in r.items() if k not in ("_status", "_changed")} for r in tables[table]}


class WatermelonClient:
    """One WatermelonDB app (its own in-memory database) talking to the live server as one user."""

    def __init__(self, base_url: str, username: str, organization: str | None = None) -> None:
        answer = requests.post(
            f"{base_url}/api/sync/auth/token/", json={"username": username, "password": PASSWORD}, timeout=30
        )
        answer.raise_for_status()
        args = ["node", str(CLIENT), f"{base_url}/api/sync/watermelon/", answer.json()["token"]]
        self.process = subprocess.Popen(
            [*args, *([organization] if organization else [])],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        ready = self._read()
        assert ready == {"ok": True, "ready": True, "console": []}, ready

    def _read(self) -> dict:
        line = self.process.stdout.readline()
        assert line, "the WatermelonDB client stopped"
        return json.loads(line)

    def send(self, **command) -> dict:
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        return self._read()

    def sync(self) -> dict:
        answer = self.send(op="sync")
        assert answer["console"] == [], answer["console"]  # WatermelonDB reports protocol mistakes there
        return answer

    def tables(self) -> dict:
        return self.send(op="dump")["tables"]

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


@pytest.fixture
def demo(live_server) -> Iterator[list[WatermelonClient]]:
    """The seeded demo on the live server; yields the list clients opened by the test register in."""
    if shutil.which("node") is None or not NODE_MODULES.exists():
        pytest.fail(
            "Node and the client's packages are needed: apt-get install nodejs npm; npm ci --prefix e2e/watermelon"
        )
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    clients: list[WatermelonClient] = []
    yield clients
    for client in clients:
        client.close()


def open_client(live_server, clients, username, organization=None) -> WatermelonClient:
    client = WatermelonClient(live_server.url, username, organization)
    clients.append(client)
    return client


def test_john_first_sync_offline_writes_and_server_changes(live_server, demo):
    john = open_client(live_server, demo, "john_manager")

    first = john.sync()

    acme = Customer.objects.filter(organization__slug="acme-corp")
    tables = john.tables()
    assert rows(tables, "shop_customer") == {str(c.id): customer_raw(c) for c in acme}
    assert set(rows(tables, "shop_order")) == {
        str(pk) for pk in Order.objects.filter(organization__slug="acme-corp").values_list("pk", flat=True)
    }
    assert set(rows(tables, "shop_report")) == {
        str(pk) for pk in Report.objects.filter(organization__slug="acme-corp").values_list("pk", flat=True)
    }
    assert len(tables["shop_product"]) == 24
    assert first["sync"]["remoteChangeCount"] == 120 + 240 + 60 + 24

    # Offline: a customer created, an order updated, a report deleted (Managers get delete on reports).
    permission = ModelPermission.objects.get(
        organization__slug="acme-corp", group__name="Managers", model_label="shop.Report"
    )
    permission.can_delete = True
    permission.save()
    order = Order.objects.filter(organization__slug="acme-corp").order_by("pk").first()
    report = Report.objects.filter(organization__slug="acme-corp").order_by("pk").first()
    created = john.send(
        op="create", table="shop_customer", values={"name": "Offline Ann", "department": "SALES", "age": 33}
    )["id"]
    john.send(op="update", table="shop_order", id=str(order.pk), values={"status": "SHIPPED"})
    john.send(op="delete", table="shop_report", id=str(report.pk))

    pushed = john.sync()

    assert pushed["sync"]["localChangeCount"] == 3
    ann = Customer.objects.get(pk=created)
    assert (ann.name, ann.age, ann.department, ann.organization.slug) == (
        "Offline Ann",
        33,
        "SALES",
        "acme-corp",
    )
    assert ann.history.get().history_user.username == "john_manager"
    order.refresh_from_db()
    assert order.status == "SHIPPED"
    assert order.history.latest().history_user.username == "john_manager"
    assert not Report.objects.filter(pk=report.pk).exists()
    assert Report.history.filter(id=report.pk, history_type="-").get().history_user.username == "john_manager"
    assert john.send(op="unsynced")["unsynced"] is False

    # A change made on the server reaches the client on the next sync (and the pushed rows come back
    # without WatermelonDB complaining that a created record already exists: sync() checks its console).
    customer = acme.exclude(pk=created).order_by("name").first()
    customer.name = "Renamed On The Server"
    customer.save()

    john.sync()

    tables = john.tables()
    assert rows(tables, "shop_customer")[str(customer.pk)] == customer_raw(customer)
    assert rows(tables, "shop_customer")[created] == customer_raw(ann)
    assert str(report.pk) not in rows(tables, "shop_report")


def test_conflicting_offline_edit_fails_the_push_then_resolves_keeping_the_servers_change(live_server, demo):
    john = open_client(live_server, demo, "john_manager")
    john.sync()
    customer = Customer.objects.filter(organization__slug="acme-corp").order_by("name").first()
    john.send(op="update", table="shop_customer", id=str(customer.pk), values={"age": 77})

    assert john.send(op="sync", pauseBeforePush=True) == {"paused": True}
    customer.name = "Changed While Offline"
    customer.save()
    failed = john.send(op="continue")

    assert failed["ok"] is False and failed["status"] == 409
    assert failed["body"]["conflicts"] == [{"table": "shop_customer", "id": str(customer.pk)}]
    customer.refresh_from_db()
    assert (customer.name, customer.age) != ("Changed While Offline", 77)
    assert john.send(op="unsynced")["unsynced"] is True

    john.sync()

    customer.refresh_from_db()
    assert (customer.name, customer.age) == ("Changed While Offline", 77)
    assert john.send(op="unsynced")["unsynced"] is False
    john.sync()  # brings the server's updated_at of the merged row
    assert rows(john.tables(), "shop_customer")[str(customer.pk)] == customer_raw(customer)


def test_mary_syncs_her_customers_and_drops_the_rows_that_leave_her_view(live_server, demo):
    mary = open_client(live_server, demo, "mary_sales")
    retail = Customer.objects.filter(organization__slug="global-retail")
    mine = retail.filter(assigned_manager__username="mary_sales")

    mary.sync()

    assert rows(mary.tables(), "shop_customer") == {str(c.id): customer_raw(c) for c in mine}
    assert mine.count() == 40

    # A data-filter change narrows her view: only her customers aged 40 or more.
    DataFilter.objects.create(
        organization=mine.first().organization,
        group=DataFilter.objects.get(organization__slug="global-retail", group__name="Sales").group,
        model_label="shop.Customer",
        name="Forty and over",
        condition={"field": "age", "operator": "gte", "value": 40},
    )
    # And one of those is handed to tom on the server.
    kept = list(mine.filter(age__gte=40).order_by("name"))
    handed = kept.pop()
    handed.assigned_manager = type(handed.assigned_manager).objects.get(username="tom_sales")
    handed.save()

    mary.sync()

    assert rows(mary.tables(), "shop_customer") == {str(c.id): customer_raw(c) for c in kept}
    assert 0 < len(kept) < 39


def test_rita_readonly_write_fails_the_sync_with_the_reason_and_writes_nothing(live_server, demo):
    rita = open_client(live_server, demo, "rita_readonly")
    rita.sync()
    customer = Customer.objects.filter(organization__slug="global-retail").order_by("name").first()
    history = customer.history.count()
    rita.send(op="update", table="shop_customer", id=str(customer.pk), values={"name": "Rita Was Here"})

    failed = rita.send(op="sync")

    assert failed["ok"] is False and failed["status"] == 403
    assert failed["body"]["rejected"] == [
        {
            "table": "shop_customer",
            "id": str(customer.pk),
            "status": "forbidden",
            "detail": "You may not push records of this model.",
        }
    ]
    customer.refresh_from_db()
    assert customer.name != "Rita Was Here"
    assert customer.history.count() == history
    assert SyncLog.objects.filter(
        user__username="rita_readonly", operation=Operation.PUSH, status=LogStatus.ERROR
    ).exists()


def test_a_table_the_user_may_no_longer_pull_is_emptied_on_the_client(live_server, demo):
    rita = open_client(live_server, demo, "rita_readonly")
    rita.sync()
    assert len(rita.tables()["shop_report"]) == 60
    permission = ModelPermission.objects.get(
        organization__slug="global-retail", group__name="Read Only", model_label="shop.Report"
    )
    permission.can_pull = False
    permission.save()

    rita.sync()

    tables = rita.tables()
    assert tables["shop_report"] == []
    assert len(tables["shop_customer"]) == 120


def test_a_thousand_rows_sharing_one_timestamp_arrive_exactly_once(live_server, demo):
    john = open_client(live_server, demo, "john_manager")
    john.sync()
    acme = Customer.objects.filter(organization__slug="acme-corp").first().organization
    Customer.objects.bulk_create(
        [Customer(name=f"Tied {n:04d}", organization=acme, department="SALES") for n in range(1000)]
    )
    tied = Customer.objects.filter(name__startswith="Tied ")
    moment = tied.first().updated_at
    tied.update(updated_at=moment)
    mark_changed(tied)

    answer = john.sync()

    assert answer["sync"]["remoteChangeCount"] == 1000
    client_rows = rows(john.tables(), "shop_customer")
    assert {pk for pk, row in client_rows.items() if row["name"].startswith("Tied ")} == {
        str(pk) for pk in tied.values_list("pk", flat=True)
    }
    assert {row["updated_at"] for row in client_rows.values() if row["name"].startswith("Tied ")} == {
        milliseconds(moment)
    }
    assert len(client_rows) == 1120


def test_a_first_sync_in_parts_splits_tied_rows_and_still_gets_each_once(live_server, demo):
    acme = Customer.objects.filter(organization__slug="acme-corp").first().organization
    Customer.objects.bulk_create(
        [Customer(name=f"Tied {n:04d}", organization=acme, department="SALES") for n in range(1000)]
    )
    tied = Customer.objects.filter(name__startswith="Tied ")
    tied.update(updated_at=tied.first().updated_at)
    mark_changed(tied)
    john = open_client(live_server, demo, "john_manager")

    answer = john.send(op="sync", maxRecords=300)

    assert answer["console"] == []
    assert [part["remoteChangeCount"] for part in answer["parts"]] == [300, 300, 300, 300, 244]
    tables = john.tables()
    assert set(rows(tables, "shop_customer")) == {
        str(pk) for pk in Customer.objects.filter(organization=acme).values_list("pk", flat=True)
    }
    assert sum(len(records) for records in tables.values()) == 1444
