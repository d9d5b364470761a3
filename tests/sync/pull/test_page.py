from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sbsync.access import access_for
from sbsync.demo.shop.models import Customer
from sbsync.enums import Action
from sbsync.errors import ProtocolError
from sbsync.models import SyncMetadata, SyncRecord, UserSyncMetadata
from sbsync.sync.changes.index import compact_tombstones, index_state, stamp_pending
from sbsync.sync.changes.tracking import mark_changed
from sbsync.sync.pull import page as pull_module
from sbsync.sync.pull.cursor import decode_cursor
from sbsync.sync.pull.page import ChangesQuery, build_pull_page, read_snapshot
from tests.factories import is_error, make_customer, make_filter, make_order, make_permission, make_product
from tests.pulling import Replica, row_state

CUSTOMER = "shop.Customer"


@pytest.fixture
def sales(trio):
    """bob sees only the acme customers assigned to him."""
    make_permission(organization=trio.acme, group=trio.members, model_label=CUSTOMER, actions=[Action.PULL])
    make_filter(organization=trio.acme, group=trio.members, model_label=CUSTOMER)
    return trio


def test_first_pull_serves_every_visible_row_in_its_latest_state_with_its_version(trio):
    first = make_customer(organization=trio.acme, name="Ann", age=30)
    second = make_customer(organization=trio.acme, name="Bo")
    first.age = 31
    first.save()
    replica = Replica(trio.alice, trio.acme, [CUSTOMER])

    page = replica.pull()

    assert replica.of(CUSTOMER) == {str(first.pk): row_state(first), str(second.pk): row_state(second)}
    versions = {r["name"]: r["_version"] for r in page.data}
    assert versions == {"Ann": 2, "Bo": 1}
    assert (page.deleted, page.has_more, page.total_records) == ([], False, 2)


def test_pages_follow_change_order_and_each_cursor_continues_where_the_last_page_stopped(trio):
    customers = [make_customer(organization=trio.acme, name=f"c{n}") for n in range(5)]
    stamp_pending(trio.acme.pk)
    customers[0].save()
    replica = Replica(trio.alice, trio.acme, [CUSTOMER])

    pages = replica.pull_to_end(batch_size=2)

    assert [[r["name"] for r in p.data] for p in pages] == [["c1", "c2"], ["c3", "c4"], ["c0"]]
    assert [p.has_more for p in pages] == [True, True, False]


def test_a_row_changed_many_times_between_pulls_arrives_once_in_its_latest_state(trio):
    customer = make_customer(organization=trio.acme, name="v1")
    replica = Replica(trio.alice, trio.acme, [CUSTOMER])
    replica.pull()
    for name in ("v2", "v3", "v4"):
        customer.name = name
        customer.save()

    page = replica.pull()

    assert [(r["name"], r["_version"]) for r in page.data] == [("v4", 4)]


def test_deletes_after_a_cursor_travel_as_tombstones(trio):
    kept, gone = make_customer(organization=trio.acme), make_customer(organization=trio.acme)
    replica = Replica(trio.alice, trio.acme, [CUSTOMER])
    replica.pull()
    gone_pk = gone.pk
    gone.delete()

    page = replica.pull()

    assert page.deleted == [{"_model": CUSTOMER, "id": gone_pk, "_version": 2}]
    assert set(replica.of(CUSTOMER)) == {str(kept.pk)}


def test_first_pull_skips_tombstones_and_never_names_rows_outside_the_view(sales):
    mine = make_customer(organization=sales.acme, assigned_manager=sales.bob)
    make_customer(organization=sales.acme, assigned_manager=sales.alice)
    make_customer(organization=sales.acme, assigned_manager=sales.bob).delete()

    pages = Replica(sales.bob, sales.acme, [CUSTOMER]).pull_to_end(batch_size=1)

    assert [r["id"] for p in pages for r in p.data] == [mine.pk]
    assert [r for p in pages for r in p.deleted] == []


def test_a_row_whose_filtered_field_changed_is_sent_to_that_caller_as_deleted(sales):
    customer = make_customer(organization=sales.acme, assigned_manager=sales.bob)
    replica = Replica(sales.bob, sales.acme, [CUSTOMER])
    replica.pull()
    customer.assigned_manager = sales.alice
    customer.save()

    page = replica.pull()

    assert page.deleted == [{"_model": CUSTOMER, "id": customer.pk, "_version": 2}]
    assert replica.of(CUSTOMER) == {}


def test_a_row_entering_the_view_later_arrives_as_data(sales):
    customer = make_customer(organization=sales.acme, assigned_manager=sales.alice)
    replica = Replica(sales.bob, sales.acme, [CUSTOMER])
    replica.pull()
    customer.assigned_manager = sales.bob
    customer.save()

    replica.pull()

    assert replica.of(CUSTOMER) == {str(customer.pk): row_state(customer)}


def test_adding_a_filter_rescans_so_rows_that_left_the_view_are_deleted(trio):
    make_permission(organization=trio.acme, group=trio.members, model_label=CUSTOMER, actions=[Action.PULL])
    mine = make_customer(organization=trio.acme, assigned_manager=trio.bob)
    other = make_customer(organization=trio.acme, assigned_manager=trio.alice)
    replica = Replica(trio.bob, trio.acme, [CUSTOMER])
    replica.pull_to_end()
    make_filter(organization=trio.acme, group=trio.members, model_label=CUSTOMER)

    pages = replica.pull_to_end(batch_size=1)

    assert replica.of(CUSTOMER) == {str(mine.pk): row_state(mine)}
    assert [r["id"] for p in pages for r in p.deleted] == [other.pk]


def test_removing_a_filter_rescans_so_rows_that_entered_the_view_arrive(sales):
    mine = make_customer(organization=sales.acme, assigned_manager=sales.bob)
    other = make_customer(organization=sales.acme, assigned_manager=sales.alice)
    replica = Replica(sales.bob, sales.acme, [CUSTOMER])
    replica.pull_to_end()
    sales.members.sbsync_data_filters.get().delete()

    replica.pull_to_end(batch_size=1)

    assert replica.of(CUSTOMER) == {str(mine.pk): row_state(mine), str(other.pk): row_state(other)}


def test_a_rescan_does_not_repeat_tombstones_the_client_already_received(trio):
    make_permission(organization=trio.acme, group=trio.members, model_label=CUSTOMER, actions=[Action.PULL])
    make_customer(organization=trio.acme, assigned_manager=trio.bob)
    gone = make_customer(organization=trio.acme, assigned_manager=trio.bob)
    replica = Replica(trio.bob, trio.acme, [CUSTOMER])
    replica.pull()
    gone.delete()
    replica.pull()
    make_filter(
        organization=trio.acme,
        group=trio.members,
        model_label=CUSTOMER,
        condition={"field": "name", "operator": "ne", "value": "x"},
    )

    page = replica.pull()

    assert page.deleted == []
    assert len(page.data) == 1


def test_a_row_moved_to_another_organization_is_deleted_for_the_old_one_and_served_to_the_new(trio):
    customer = make_customer(organization=trio.acme)
    acme_replica = Replica(trio.alice, trio.acme, [CUSTOMER])
    globex_replica = Replica(trio.charlie, trio.globex, [CUSTOMER])
    acme_replica.pull()
    globex_replica.pull()
    customer.organization = trio.globex
    customer.save()

    acme_page = acme_replica.pull()
    globex_replica.pull()

    assert [r["id"] for r in acme_page.deleted] == [customer.pk]
    assert globex_replica.of(CUSTOMER) == {str(customer.pk): row_state(customer)}


def test_rows_that_existed_before_sync_tracked_them_are_served_on_the_first_pull(trio):
    Customer.objects.bulk_create([Customer(organization=trio.acme, name=f"old {n}") for n in range(3)])
    assert SyncRecord.objects.count() == 0

    page = Replica(trio.alice, trio.acme, [CUSTOMER]).pull()

    assert sorted(r["name"] for r in page.data) == ["old 0", "old 1", "old 2"]
    assert {r["_version"] for r in page.data} == {1}


def test_batch_size_bounds_the_whole_response_and_models_are_served_in_request_order(trio):
    make_order(organization=trio.acme)
    make_order(organization=trio.acme)
    replica = Replica(trio.alice, trio.acme, ["shop.Order", CUSTOMER])

    first = replica.pull(batch_size=3)
    second = replica.pull(batch_size=3)

    assert [r["_model"] for r in first.data] == ["shop.Order", "shop.Order", CUSTOMER]
    assert first.models[CUSTOMER].has_more is True and first.models["shop.Order"].has_more is False
    assert [r["_model"] for r in second.data] == [CUSTOMER]
    assert second.has_more is False


def test_a_model_not_reached_keeps_its_position_and_reports_has_more(trio):
    make_order(organization=trio.acme)
    make_order(organization=trio.acme)
    product = make_product()
    replica = Replica(trio.alice, trio.acme, ["shop.Order", "shop.Product"])

    first = replica.pull(batch_size=2)
    second = replica.pull(batch_size=2)

    assert [r["_model"] for r in first.data] == ["shop.Order", "shop.Order"]
    assert (first.models["shop.Product"].count, first.models["shop.Product"].has_more) == (0, True)
    assert decode_cursor(first.models["shop.Product"].cursor.encode(), "shop.Product").seq == 0
    assert [r["id"] for r in second.data] == [product.pk]


def test_a_timestamp_start_serves_what_changed_after_that_time(trio):
    before = make_customer(organization=trio.acme, name="before")
    stamp_pending(trio.acme.pk)
    moment = timezone.now()
    after = make_customer(organization=trio.acme, name="after")
    access = access_for(trio.alice, trio.acme)

    page = build_pull_page(access=access, requests={Customer: moment.isoformat()}, batch_size=10)

    assert [r["id"] for r in page.data] == [after.pk]
    assert before.pk not in {r["id"] for r in page.deleted}


def test_a_cursor_older_than_the_tombstone_horizon_is_expired_and_null_starts_over(trio):
    kept = make_customer(organization=trio.acme)
    replica = Replica(trio.alice, trio.acme, [CUSTOMER])
    replica.pull()
    make_customer(organization=trio.acme).delete()
    stamp_pending(trio.acme.pk)
    compact_tombstones(older_than=timezone.now() + timedelta(seconds=1))

    with pytest.raises(ProtocolError, check=is_error("cursor_expired", 410)):
        replica.pull()
    fresh = Replica(trio.alice, trio.acme, [CUSTOMER])
    fresh.pull()

    assert set(fresh.of(CUSTOMER)) == {str(kept.pk)}


def test_a_cursor_of_another_organization_or_model_is_invalid(trio):
    make_customer(organization=trio.globex)
    globex_page = Replica(trio.charlie, trio.globex, [CUSTOMER]).pull()
    order_page = Replica(trio.alice, trio.acme, ["shop.Order"]).pull()
    access = access_for(trio.alice, trio.acme)

    with pytest.raises(ProtocolError, check=is_error("invalid_cursor", 400)):
        build_pull_page(
            access=access, requests={Customer: globex_page.models[CUSTOMER].cursor.encode()}, batch_size=5
        )
    with pytest.raises(ProtocolError, check=is_error("invalid_cursor", 400)):
        build_pull_page(
            access=access, requests={Customer: order_page.models["shop.Order"].cursor.encode()}, batch_size=5
        )


def test_another_organizations_rows_and_tombstones_never_reach_a_pull(trio):
    make_customer(organization=trio.globex, name="secret")
    make_customer(organization=trio.globex).delete()
    make_customer(organization=trio.acme, name="ours")
    replica = Replica(trio.alice, trio.acme, [CUSTOMER, "shop.Order"])
    replica.pull()
    make_customer(organization=trio.globex).delete()
    make_order(organization=trio.globex)

    pages = [replica.pages[0], *replica.pull_to_end(batch_size=1)]

    assert [r["name"] for p in pages for r in p.data] == ["ours"]
    assert [r for p in pages for r in p.deleted] == []


def test_shared_models_reach_every_organization(trio):
    product = make_product(name="Widget")

    acme = Replica(trio.alice, trio.acme, ["shop.Product"])
    globex = Replica(trio.charlie, trio.globex, ["shop.Product"])
    acme.pull(), globex.pull()

    assert acme.of("shop.Product") == globex.of("shop.Product") == {str(product.pk): row_state(product)}


def test_pull_records_when_each_user_and_organization_last_synced(trio):
    make_customer(organization=trio.acme)
    replica = Replica(trio.alice, trio.acme, [CUSTOMER])
    first = replica.pull()
    make_customer(organization=trio.acme)

    second = replica.pull()

    user_row = UserSyncMetadata.objects.get(user=trio.alice, organization=trio.acme, model_name=CUSTOMER)
    org_row = SyncMetadata.objects.get(organization=trio.acme, model_name=CUSTOMER)
    assert first.models[CUSTOMER].user_last_sync is None
    assert second.models[CUSTOMER].user_last_sync == first.models[CUSTOMER].last_sync
    assert (user_row.total_synced, user_row.last_sync) == (2, second.models[CUSTOMER].last_sync)
    assert (org_row.total_synced, org_row.last_sync) == (2, second.models[CUSTOMER].last_sync)


def test_skipped_records_do_not_count_but_the_scan_per_request_is_bounded(sales, monkeypatch):
    for _ in range(6):
        make_customer(organization=sales.acme, assigned_manager=sales.alice)
    mine = make_customer(organization=sales.acme, assigned_manager=sales.bob)
    monkeypatch.setattr(pull_module, "SCAN_LIMIT", 4)
    replica = Replica(sales.bob, sales.acme, [CUSTOMER])

    first = replica.pull(batch_size=5)
    second = replica.pull(batch_size=5)

    assert (first.data, first.has_more) == ([], True)
    assert ([r["id"] for r in second.data], second.has_more) == ([mine.pk], False)


def test_a_page_costs_the_same_number_of_queries_whatever_its_size(trio):
    for n in range(30):
        make_customer(organization=trio.acme, name=f"c{n}")
    replica = Replica(trio.alice, trio.acme, [CUSTOMER])
    replica.pull(batch_size=2)

    with CaptureQueriesContext(connection) as small:
        replica.pull(batch_size=3)
    with CaptureQueriesContext(connection) as large:
        replica.pull(batch_size=20)

    assert len(replica.pages[-1].data) == 20
    assert len(small.captured_queries) == len(large.captured_queries)


def test_a_page_reads_each_scopes_clock_once_whatever_the_number_of_models(trio):
    replica = Replica(trio.alice, trio.acme, [CUSTOMER, "shop.Order", "shop.Report", "shop.Product"])
    replica.pull()

    with CaptureQueriesContext(connection) as pulled:
        replica.pull()

    clock_reads = [q["sql"] for q in pulled.captured_queries if '"sbsync_changeclock"' in q["sql"]]
    assert len(clock_reads) == 1
    assert replica.pages[-1].has_more is False


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("filtered", [False, True])
def test_a_page_reads_a_range_of_the_change_index_joined_to_rows_by_primary_key(sales, filtered):
    Customer.objects.bulk_create([Customer(organization=sales.acme, name=f"c{n}") for n in range(3000)])
    mark_changed(Customer.objects.all())
    stamp_pending(sales.acme.pk)
    access = access_for(sales.bob if filtered else sales.alice, sales.acme)
    changes = ChangesQuery(Customer, access, sales.acme.pk)

    with read_snapshot(), connection.cursor() as cursor:
        explain = "EXPLAIN " if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN "
        cursor.execute(explain + changes.sql, [*changes.inner_params, sales.acme.pk, CUSTOMER, 1000, 501])
        plan = " ".join(str(row) for row in cursor.fetchall())

    assert "sbsync_syncrecord_pull" in plan and "Sort" not in plan and "TEMP B-TREE" not in plan
    assert ("shop_customer_pkey" if connection.vendor == "postgresql" else "(id=?)") in plan
    assert "Seq Scan" not in plan and "SCAN shop_customer" not in plan


OPERATOR_CONDITIONS = [
    {"field": "department", "operator": "exact", "value": "SALES"},
    {"field": "assigned_manager", "operator": "ne", "value": "$user"},
    {"field": "name", "operator": "iexact", "value": "ANN"},
    {"field": "name", "operator": "contains", "value": "n"},
    {"field": "name", "operator": "icontains", "value": "N"},
    {"field": "name", "operator": "startswith", "value": "A"},
    {"field": "name", "operator": "endswith", "value": "o"},
    {"field": "department", "operator": "in", "value": ["SALES", "FINANCE"]},
    {"field": "age", "operator": "gt", "value": 30},
    {"field": "age", "operator": "gte", "value": 30},
    {"field": "age", "operator": "lt", "value": 30},
    {"field": "age", "operator": "lte", "value": 30},
    {"field": "age", "operator": "isnull", "value": True},
]


@pytest.mark.parametrize("condition", OPERATOR_CONDITIONS, ids=[c["operator"] for c in OPERATOR_CONDITIONS])
def test_a_pull_serves_exactly_the_rows_a_filter_selects_whatever_its_operator(trio, condition):
    make_permission(organization=trio.acme, group=trio.members, model_label=CUSTOMER, actions=[Action.PULL])
    make_filter(organization=trio.acme, group=trio.members, model_label=CUSTOMER, condition=condition)
    for name, age, department, manager in [
        ("Ann", 30, "SALES", trio.bob),
        ("Bo", None, "FINANCE", None),
        ("Cy", 45, "", trio.alice),
        ("ann", 12, "SUPPORT", None),
    ]:
        make_customer(
            organization=trio.acme, name=name, age=age, department=department, assigned_manager=manager
        )

    replica = Replica(trio.bob, trio.acme, [CUSTOMER])
    replica.pull_to_end(batch_size=2)

    selected = access_for(trio.bob, trio.acme).rows(Customer).values_list("pk", flat=True)
    assert set(replica.of(CUSTOMER)) == {str(pk) for pk in selected}
    assert 0 < len(selected) < 4


@pytest.mark.django_db(transaction=True)
def test_the_clock_read_checks_pending_records_on_the_pending_index_not_the_scopes_records(trio):
    Customer.objects.bulk_create([Customer(organization=trio.acme, name=f"c{n}") for n in range(3000)])
    mark_changed(Customer.objects.all())
    stamp_pending(trio.acme.pk)

    with CaptureQueriesContext(connection) as read:
        state = index_state({CUSTOMER: trio.acme.pk})
    with connection.cursor() as cursor:
        explain = "EXPLAIN " if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN "
        cursor.execute(explain + read.captured_queries[-1]["sql"])
        plan = " ".join(str(row) for row in cursor.fetchall())

    assert state.ready is False  # the model was never backfilled in acme: the pull must do it first
    assert "sbsync_syncrecord_pending_seq" in plan
    assert "sbsync_syncrecord_pull" not in plan and "Seq Scan on sbsync_syncrecord" not in plan


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's database-wide write lock")
@pytest.mark.django_db(transaction=True)
def test_on_sqlite_a_page_is_read_while_a_push_holds_the_write_lock(trio):
    # The read snapshot is a deferred transaction: it never waits for, nor blocks, a writer.
    make_customer(organization=trio.acme, name="Ann")
    access = access_for(trio.alice, trio.acme)
    build_pull_page(access=access, requests={Customer: None}, batch_size=10)  # the index is ready
    writer = sqlite3.connect(connection.settings_dict["NAME"], timeout=0)
    writer.execute("BEGIN IMMEDIATE")
    try:
        page = pull_module.read_pull_page(access=access, requests={Customer: None}, batch_size=10)
    finally:
        writer.rollback()
        writer.close()

    assert [row["name"] for row in page.data] == ["Ann"]
