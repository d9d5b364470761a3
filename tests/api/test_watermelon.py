"""``GET``/``POST watermelon/`` and ``GET watermelon/schema/`` through the Django test client (the real
WatermelonDB client's journeys are in e2e/test_watermelon.py)."""

from __future__ import annotations

import calendar
import json
import uuid
from decimal import Decimal
from functools import partial

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from sbsync.demo.shop.models import Customer, Order, Report
from sbsync.enums import Action, LogStatus, Operation
from sbsync.models import SyncLog, WatermelonCheckpoint
from tests.factories import make_customer, make_filter, make_order, make_permission, make_product, make_report

pytestmark = pytest.mark.django_db

TABLES = ("shop_customer", "shop_order", "shop_product", "shop_report")


def ms(moment) -> int:
    return calendar.timegm(moment.utctimetuple()) * 1000 + moment.microsecond // 1000


def pull(client, last_pulled_at=None, **params):
    query = {
        "last_pulled_at": "null" if last_pulled_at is None else str(last_pulled_at),
        "schema_version": "1",
    }
    return client.get("watermelon/", data={**query, **params})


def push(client, last_pulled_at, changes, **kwargs):
    return client.post(f"watermelon/?last_pulled_at={last_pulled_at}", {"changes": changes}, **kwargs)


def empty(**tables):
    """A push's changes as WatermelonDB sends them: every table of the schema, most with empty lists."""
    changes = {name: {"created": [], "updated": [], "deleted": []} for name in TABLES}
    for name, lists in tables.items():
        changes[name].update(lists)
    return changes


def ids(answer, table, kind):
    records = answer.json()["changes"][table][kind]
    return sorted(r if kind == "deleted" else r["id"] for r in records)


def test_first_pull_sends_every_row_of_the_callers_organization_as_created(trio, api):
    mine = make_customer(organization=trio.acme, name="Ann", age=41, assigned_manager=trio.bob)
    order = make_order(customer=mine, amount=Decimal("12.50"))
    make_customer(organization=trio.globex, name="Not yours")
    product = make_product(price=Decimal("3.10"))

    answer = pull(api(trio.alice))

    assert answer.status_code == 200
    body = answer.json()
    assert isinstance(body["timestamp"], int) and 0 < body["timestamp"] < 2**53
    mine.refresh_from_db()
    assert body["changes"]["shop_customer"] == {
        "created": [
            {
                "id": str(mine.pk),
                "name": "Ann",
                "age": 41,
                "department": "",
                "assigned_manager_id": str(trio.bob.pk),
                "updated_at": ms(mine.updated_at),
            }
        ],
        "updated": [],
        "deleted": [],
    }
    assert body["changes"]["shop_order"]["created"] == [
        {
            "id": str(order.pk),
            "customer_id": str(mine.pk),
            "amount": "12.50",
            "status": "PENDING",
            "created_at": ms(order.created_at),
        }
    ]
    assert body["changes"]["shop_product"]["created"] == [
        {"id": str(product.pk), "sku": product.sku, "name": product.name, "price": "3.10"}
    ]


def test_next_pull_sends_creates_updates_and_deletes_after_the_timestamp(trio, api):
    client = api(trio.alice)
    kept, changed, gone = (make_customer(organization=trio.acme) for _ in range(3))
    first = pull(client).json()["timestamp"]
    changed.name = "Changed"
    changed.save()
    gone_pk = str(gone.pk)
    gone.delete()
    new = make_customer(organization=trio.acme)

    answer = pull(client, first)

    assert ids(answer, "shop_customer", "created") == [str(new.pk)]
    assert ids(answer, "shop_customer", "updated") == [str(changed.pk)]
    assert ids(answer, "shop_customer", "deleted") == [gone_pk]
    assert str(kept.pk) not in json.dumps(answer.json())
    assert answer.json()["timestamp"] > first


def test_after_a_first_sync_a_changed_row_is_updated_even_when_other_tables_changed_later(trio, api):
    client = api(trio.alice)
    customer = make_customer(organization=trio.acme)
    make_order(customer=customer)  # positioned after the customer: its first sync ends below the floor
    timestamp = pull(client).json()["timestamp"]
    customer.name = "Changed"
    customer.save()

    answer = pull(client, timestamp)

    assert ids(answer, "shop_customer", "updated") == [str(customer.pk)]
    assert ids(answer, "shop_customer", "created") == []


def test_a_pull_is_logged_like_any_pull(trio, api):
    make_customer(organization=trio.acme)

    pull(api(trio.alice))

    log = SyncLog.objects.get()
    assert (log.operation, log.status, log.user, log.organization) == (
        Operation.PULL,
        LogStatus.SUCCESS,
        trio.alice,
        trio.acme,
    )
    assert (log.model_names, log.object_count) == (
        ["shop.Customer", "shop.Order", "shop.Product", "shop.Report"],
        1,
    )


def test_a_timestamp_is_only_good_for_the_user_it_was_issued_to(trio, api):
    make_customer(organization=trio.acme)
    alices = pull(api(trio.alice)).json()["timestamp"]
    make_permission(organization=trio.acme, group=trio.members, model_label="shop.Customer")

    answer = pull(api(trio.bob), alices)

    assert answer.status_code == 410
    assert answer.json()["error"] == "cursor_expired"
    assert "sync from null" in answer.json()["detail"]


def test_pull_refuses_a_malformed_timestamp_or_migration(trio, api):
    client = api(trio.alice)

    assert pull(client, "12abc").json()["error"] == "invalid_timestamp"
    bad = pull(client, migration=json.dumps({"from": 1, "tables": "shop_customer"}))
    assert (bad.status_code, bad.json()["error"]) == (400, "validation_error")
    assert pull(client, schema_version="one").status_code == 400


@override_settings(SBSYNC={"SHARED_MODELS": ["shop.Product"], "WATERMELON_MAX_PULL_RECORDS": 3})
def test_a_pull_past_the_limit_is_refused_naming_the_limit_and_stores_nothing(trio, api):
    for _ in range(4):
        make_customer(organization=trio.acme)

    answer = pull(api(trio.alice))

    assert answer.status_code == 413
    assert answer.json()["error"] == "too_many_changes"
    assert "WATERMELON_MAX_PULL_RECORDS (3)" in answer.json()["detail"]
    assert WatermelonCheckpoint.objects.count() == 0


def test_a_pull_in_parts_serves_every_row_once_as_created_and_says_when_it_is_done(trio, api):
    client = api(trio.alice)
    customers = {str(make_customer(organization=trio.acme).pk) for _ in range(5)}
    seen, parts, timestamp = [], [], None

    while not parts or parts[-1]["has_more"]:
        parts.append(pull(client, timestamp, max_records="2").json())
        timestamp = parts[-1]["timestamp"]
        seen += [r["id"] for r in parts[-1]["changes"]["shop_customer"]["created"]]
        assert parts[-1]["changes"]["shop_customer"]["updated"] == []

    assert sorted(seen) == sorted(customers)
    assert [p["has_more"] for p in parts] == [True, True, False]
    assert pull(client, max_records="0").status_code == 400


def test_migration_sends_all_rows_of_new_tables_as_created_and_of_altered_tables_as_updated(trio, api):
    client = api(trio.alice)
    customer = make_customer(organization=trio.acme)
    report = make_report(customer=customer)
    timestamp = pull(client).json()["timestamp"]
    migration = {
        "from": 1,
        "tables": ["shop_report"],
        "columns": [{"table": "shop_customer", "columns": ["age"]}],
    }

    answer = pull(client, timestamp, migration=json.dumps(migration))

    assert ids(answer, "shop_report", "created") == [str(report.pk)]
    assert ids(answer, "shop_customer", "updated") == [str(customer.pk)]
    assert ids(answer, "shop_order", "created") == []


def test_rows_leaving_a_filtered_view_arrive_as_deleted_and_others_never_appear(trio, api):
    make_permission(organization=trio.acme, group=trio.members, model_label="shop.Customer")
    client = api(trio.bob)
    mine = make_customer(organization=trio.acme, assigned_manager=trio.bob)
    other = make_customer(organization=trio.acme, assigned_manager=trio.alice)
    make_filter(organization=trio.acme, group=trio.members)
    first = pull(client)
    assert ids(first, "shop_customer", "created") == [str(mine.pk)]

    mine.assigned_manager = trio.alice
    mine.save()
    answer = pull(client, first.json()["timestamp"])

    assert ids(answer, "shop_customer", "deleted") == [str(mine.pk)]
    assert str(other.pk) not in json.dumps(first.json()) + json.dumps(answer.json())


def test_a_rescan_after_a_view_change_replaces_the_table_and_names_no_row_outside_the_view(trio, api):
    make_permission(organization=trio.acme, group=trio.members, model_label="shop.Customer")
    client = api(trio.bob)
    kept = make_customer(organization=trio.acme, assigned_manager=trio.bob, age=50)
    leaving = make_customer(organization=trio.acme, assigned_manager=trio.bob, age=20)
    never = make_customer(organization=trio.acme, assigned_manager=trio.alice, age=60)
    make_filter(organization=trio.acme, group=trio.members)
    first = pull(client)
    assert ids(first, "shop_customer", "created") == sorted([str(kept.pk), str(leaving.pk)])

    make_filter(
        organization=trio.acme, group=trio.members, condition={"field": "age", "operator": "gte", "value": 40}
    )
    answer = pull(client, first.json()["timestamp"])

    body = answer.json()
    assert body["experimentalStrategy"] == {
        "default": "incremental",
        "override": {"shop_customer": "replacement"},
    }
    assert ids(answer, "shop_customer", "updated") == [str(kept.pk)]
    assert ids(answer, "shop_customer", "deleted") == []
    assert str(never.pk) not in json.dumps(first.json()) + json.dumps(body)
    assert "experimentalStrategy" not in pull(client, body["timestamp"]).json()


def test_a_table_the_caller_may_no_longer_pull_is_emptied_on_the_client(trio, api):
    make_permission(organization=trio.acme, group=trio.members, model_label="shop.Report")
    permission = make_permission(organization=trio.acme, group=trio.members, model_label="shop.Customer")
    client = api(trio.bob)
    timestamp = pull(client).json()["timestamp"]
    permission.can_pull = False
    permission.save()

    answer = pull(client, timestamp).json()

    assert answer["experimentalStrategy"] == {
        "default": "incremental",
        "override": {"shop_customer": "replacement"},
    }
    assert answer["changes"]["shop_customer"] == {"created": [], "updated": [], "deleted": []}


def test_schema_lists_the_callers_tables_with_watermelon_types(trio, api):
    make_permission(
        organization=trio.acme, group=trio.members, model_label="shop.Order", actions=[Action.PULL]
    )

    tables = {t["name"]: t for t in api(trio.bob).get("watermelon/schema/").json()["tables"]}

    assert list(tables) == ["shop_order"]
    assert tables["shop_order"]["columns"] == [
        {"name": "customer_id", "type": "string", "isOptional": False, "isIndexed": True},
        {"name": "amount", "type": "string", "isOptional": False, "isIndexed": False},
        {"name": "status", "type": "string", "isOptional": False, "isIndexed": False},
        {"name": "created_at", "type": "number", "isOptional": False, "isIndexed": False},
    ]
    assert tables["shop_order"]["server_owned_columns"] == ["created_at"]
    assert tables["shop_order"]["server_assigned_ids"] is True
    assert tables["shop_order"]["permissions"]["push"] is False


@override_settings(
    SBSYNC={"SHARED_MODELS": ["shop.Product"], "WATERMELON_TABLES": {"shop.Customer": "customers"}}
)
def test_a_model_can_be_given_its_own_table_name(trio, api):
    customer = make_customer(organization=trio.acme)

    answer = pull(api(trio.alice)).json()

    assert [r["id"] for r in answer["changes"]["customers"]["created"]] == [str(customer.pk)]
    assert "shop_customer" not in answer["changes"]


def test_watermelon_needs_a_token(trio, api):
    answer = pull(api())

    assert answer.status_code == 401
    assert answer.json()["error"] == "not_authenticated"


# Push


def test_push_applies_creates_updates_and_deletes_and_ignores_bookkeeping_and_server_columns(trio, api):
    client = api(trio.alice)
    changed = make_customer(organization=trio.acme, name="Old")
    gone = make_customer(organization=trio.acme)
    gone_pk = str(gone.pk)
    timestamp = pull(client).json()["timestamp"]
    new_id = str(uuid.uuid4())

    answer = push(
        client,
        timestamp,
        empty(
            shop_customer={
                "created": [
                    {
                        "id": new_id,
                        "name": "New",
                        "age": 30,
                        "department": "SALES",
                        "assigned_manager_id": None,
                        "updated_at": 0,
                        "_status": "created",
                        "_changed": "",
                    }
                ],
                "updated": [
                    {
                        "id": str(changed.pk),
                        "name": "Renamed",
                        "age": None,
                        "department": "",
                        "updated_at": 5,
                        "unknown_local_column": 1,
                        "_status": "updated",
                        "_changed": "name",
                    }
                ],
                "deleted": [gone_pk, str(uuid.uuid4()), "not-a-uuid"],
            }
        ),
    )

    assert answer.status_code == 200, answer.json()
    assert answer.json()["counts"] == {"created": 1, "updated": 1, "deleted": 1, "unchanged": 1}
    created = Customer.objects.get(pk=new_id)
    assert (created.name, created.age, created.organization) == ("New", 30, trio.acme)
    changed.refresh_from_db()
    assert changed.name == "Renamed"
    assert not Customer.objects.filter(pk=gone_pk).exists()


def test_created_that_exists_updates_and_updated_that_is_missing_creates(trio, api):
    client = api(trio.alice)
    existing = make_customer(organization=trio.acme, name="Before")
    timestamp = pull(client).json()["timestamp"]
    missing = str(uuid.uuid4())

    answer = push(
        client,
        timestamp,
        empty(
            shop_customer={
                "created": [{"id": str(existing.pk), "name": "After", "department": ""}],
                "updated": [{"id": missing, "name": "Made", "department": ""}],
            }
        ),
    )

    assert answer.status_code == 200, answer.json()
    existing.refresh_from_db()
    assert existing.name == "After"
    assert Customer.objects.get(pk=missing).name == "Made"


def test_rows_a_push_created_come_back_as_updated_not_created(trio, api):
    client = api(trio.alice)
    timestamp = pull(client).json()["timestamp"]
    mine, theirs = str(uuid.uuid4()), make_customer(organization=trio.acme)
    push(
        client, timestamp, empty(shop_customer={"created": [{"id": mine, "name": "Mine", "department": ""}]})
    )

    answer = pull(client, timestamp)

    assert ids(answer, "shop_customer", "updated") == [mine]
    assert ids(answer, "shop_customer", "created") == [str(theirs.pk)]


def test_empty_lists_of_pull_only_tables_are_not_writes(trio, api):
    make_permission(organization=trio.acme, group=trio.members, model_label="shop.Customer")
    make_permission(
        organization=trio.acme, group=trio.members, model_label="shop.Report", actions=[Action.PULL]
    )
    client = api(trio.bob)
    timestamp = pull(client).json()["timestamp"]
    new_id = str(uuid.uuid4())

    answer = push(
        client, timestamp, empty(shop_customer={"created": [{"id": new_id, "name": "N", "department": ""}]})
    )

    assert answer.status_code == 200, answer.json()
    assert Customer.objects.filter(pk=new_id).exists()


def test_a_record_changed_after_the_pull_aborts_the_push_with_409_listing_it(trio, api):
    client = api(trio.alice)
    edited, deleted, fine = (make_customer(organization=trio.acme, name=f"C{n}") for n in range(3))
    timestamp = pull(client).json()["timestamp"]
    edited.name = "Server"
    edited.save()
    deleted_pk = str(deleted.pk)
    deleted.delete()

    answer = push(
        client,
        timestamp,
        empty(
            shop_customer={
                "updated": [
                    {"id": str(edited.pk), "name": "Client", "department": ""},
                    {"id": deleted_pk, "name": "Client", "department": ""},
                    {"id": str(fine.pk), "name": "Client", "department": ""},
                ]
            }
        ),
    )

    assert answer.status_code == 409
    assert answer.json()["error"] == "conflict"
    assert sorted(answer.json()["conflicts"], key=lambda c: c["id"]) == sorted(
        [{"table": "shop_customer", "id": str(edited.pk)}, {"table": "shop_customer", "id": deleted_pk}],
        key=lambda c: c["id"],
    )
    assert sorted(Customer.objects.filter(organization=trio.acme).values_list("name", flat=True)) == [
        "C2",
        "Server",
    ]


def test_one_refused_record_refuses_the_whole_push_with_every_reason(trio, api):
    client = api(trio.alice)
    timestamp = pull(client).json()["timestamp"]
    good, bad = str(uuid.uuid4()), str(uuid.uuid4())

    answer = push(
        client,
        timestamp,
        empty(
            shop_customer={
                "created": [
                    {"id": good, "name": "Fine", "department": ""},
                    {"id": bad, "name": "", "department": "NOT-A-DEPARTMENT"},
                ]
            }
        ),
    )

    assert answer.status_code == 400
    body = answer.json()
    assert [r["id"] for r in body["rejected"]] == [bad]
    assert set(body["rejected"][0]["errors"]) == {"name", "department"}
    assert not Customer.objects.filter(pk__in=[good, bad]).exists()


def test_push_never_reaches_another_organizations_row(trio, api):
    client = api(trio.alice)
    theirs = make_customer(organization=trio.globex, name="Globex's")
    timestamp = pull(client).json()["timestamp"]

    answer = push(
        client,
        timestamp,
        empty(
            shop_customer={
                "updated": [{"id": str(theirs.pk), "name": "Taken", "department": ""}],
                "deleted": [],
            }
        ),
    )

    assert answer.status_code == 400
    assert answer.json()["rejected"][0]["errors"] == {"id": ["This id cannot be used."]}
    theirs.refresh_from_db()
    assert (theirs.name, theirs.organization) == ("Globex's", trio.globex)


def test_rows_of_auto_increment_models_cannot_be_created_with_client_ids(trio, api):
    client = api(trio.alice)
    customer = make_customer(organization=trio.acme)
    timestamp = pull(client).json()["timestamp"]

    answer = push(
        client,
        timestamp,
        empty(
            shop_order={
                "created": [
                    {
                        "id": "aB3dE5gH7jK9mN1p",
                        "customer_id": str(customer.pk),
                        "amount": "1.00",
                        "status": "PAID",
                    }
                ]
            }
        ),
    )

    assert answer.status_code == 400
    assert "UUID primary key" in answer.json()["rejected"][0]["errors"]["id"][0]
    assert not Order.objects.exists()


def test_dates_travel_as_milliseconds_and_back(trio, api):
    client = api(trio.alice)
    report = make_report(customer=make_customer(organization=trio.acme))
    timestamp = pull(client).json()["timestamp"]

    answer = push(
        client,
        timestamp,
        empty(
            shop_report={
                "updated": [
                    {
                        "id": str(report.pk),
                        "customer_id": str(report.customer_id),
                        "report_type": "AUDIT",
                        "results": "ok",
                        "created_at": 1,
                    }
                ]
            }
        ),
    )

    assert answer.status_code == 200, answer.json()
    report.refresh_from_db()
    assert (report.report_type, report.results) == ("AUDIT", "ok")
    assert ms(report.created_at) != 1  # a server-owned column: ignored
    assert Report.objects.count() == 1


def test_push_accepts_the_bare_changes_body_as_text_and_checks_last_pulled_at(trio, api):
    client = api(trio.alice)
    timestamp = pull(client).json()["timestamp"]
    new_id = str(uuid.uuid4())
    changes = empty(shop_customer={"created": [{"id": new_id, "name": "Plain", "department": ""}]})

    answer = client.client.post(
        f"/api/sync/watermelon/?last_pulled_at={timestamp}",
        json.dumps(changes),
        content_type="text/plain;charset=UTF-8",
        headers=client.headers(),
    )
    mismatch = client.post(
        f"watermelon/?last_pulled_at={timestamp}", {"changes": changes, "lastPulledAt": timestamp + 1}
    )
    missing = client.post("watermelon/", {"changes": changes})

    assert answer.status_code == 200, answer.json()
    assert Customer.objects.filter(pk=new_id).exists()
    assert (mismatch.status_code, missing.status_code) == (400, 400)


def count_queries(call) -> int:
    with CaptureQueriesContext(connection) as queries:
        answer = call()
    assert answer.status_code == 200, answer.json()
    return len(queries)


def test_pull_and_push_cost_the_same_queries_whatever_their_size(trio, api):
    client = api(trio.alice)
    pull(client)
    pulls, pushes = [], []
    for size in (3, 30):
        for _ in range(size):
            make_customer(organization=trio.acme)
        since = WatermelonCheckpoint.objects.latest("pk").pk
        pulls.append(count_queries(partial(pull, client, since)))
        created = [{"id": str(uuid.uuid4()), "name": "N", "department": ""} for _ in range(size)]
        changes = empty(shop_customer={"created": created})
        latest = WatermelonCheckpoint.objects.latest("pk").pk
        pushes.append(count_queries(partial(push, client, latest, changes)))

    assert pulls[0] == pulls[1]
    assert pushes[0] == pushes[1]
