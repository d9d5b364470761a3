from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from sbsync.demo.shop.models import Customer, Product
from sbsync.models import ChangeClock, StampCheckpoint, SyncRecord, TrackedModel
from sbsync.sync.changes.index import (
    RowChange,
    collecting_changes,
    compact_tombstones,
    ensure_backfilled,
    pk_key,
    position_at,
    record_changes,
    stamp_pending,
    write_changes,
)
from sbsync.sync.changes.tracking import mark_changed
from tests.factories import (
    clock_horizon,
    make_customer,
    make_order,
    make_organization,
    make_product,
    make_user,
)

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks")


def record_of(instance) -> SyncRecord:
    return SyncRecord.objects.get(
        model_label=instance._meta.label, object_pk=pk_key(type(instance), instance.pk), deleted=False
    )


def test_save_creates_a_pending_record_and_each_change_bumps_the_version(db):
    customer = make_customer()

    customer.name = "renamed"
    customer.save()

    record = record_of(customer)
    assert (record.scope, record.version, record.seq, record.deleted) == (
        customer.organization_id,
        2,
        None,
        False,
    )


def test_delete_leaves_a_tombstone_with_a_higher_version(db):
    customer = make_customer()
    pk = customer.pk

    customer.delete()

    record = SyncRecord.objects.get(object_pk=str(pk))
    assert (record.deleted, record.version) == (True, 2)


def test_cascaded_deletes_leave_tombstones_too(db):
    order = make_order()

    order.customer.delete()

    assert SyncRecord.objects.get(model_label="shop.Order", object_pk=str(order.pk)).deleted is True


def test_moving_a_row_to_another_organization_tombstones_it_in_the_old_one(db):
    customer = make_customer()
    old, new = customer.organization, make_organization()

    customer.organization = new
    customer.save()

    by_scope = {r.scope: r.deleted for r in SyncRecord.objects.filter(object_pk=str(customer.pk))}
    assert by_scope == {old.pk: True, new.pk: False}


def test_shared_models_are_recorded_in_scope_zero(db):
    product = make_product()

    assert record_of(product).scope == 0


def test_buffered_changes_are_written_once_by_the_caller(db):
    org = make_organization()

    with collecting_changes() as buffer:
        record_changes([RowChange("shop.Customer", "a", org.pk, False, tenant=False)])
        record_changes([RowChange("shop.Customer", "a", org.pk, True, tenant=False)])
        assert SyncRecord.objects.count() == 0
    versions = write_changes(buffer)

    assert versions == {("shop.Customer", "a"): 1}
    assert SyncRecord.objects.get().deleted is True


def test_write_changes_runs_a_fixed_number_of_queries(db, django_assert_max_num_queries):
    org = make_organization()
    changes = [RowChange("shop.Customer", f"pk-{n}", org.pk, False, tenant=False) for n in range(500)]

    with django_assert_max_num_queries(4):
        write_changes(changes)

    assert SyncRecord.objects.filter(scope=org.pk).count() == 500


def test_stamping_positions_pending_records_after_everything_before(db):
    org = make_organization()
    first = make_customer(organization=org)
    stamp_pending(org.pk)
    second = make_customer(organization=org)
    first.save()

    stamp_pending(org.pk)

    seqs = {c.pk: record_of(c).seq for c in (first, second)}
    clock = ChangeClock.objects.get(scope=org.pk)
    assert seqs[first.pk] > 1 and seqs[second.pk] > 1
    assert clock.seq == max(seqs.values())
    assert SyncRecord.objects.filter(seq__isnull=True).count() == 0
    assert list(StampCheckpoint.objects.filter(scope=org.pk).values_list("seq", flat=True)) == [1, clock.seq]


def test_stamping_leaves_other_scopes_alone(db):
    a, b = make_organization(), make_organization()
    make_customer(organization=a)
    make_customer(organization=b)

    stamp_pending(a.pk)

    assert SyncRecord.objects.get(scope=b.pk).seq is None


def test_position_at_turns_a_moment_into_the_last_position_reached_then(db):
    org = make_organization()
    make_customer(organization=org)
    stamp_pending(org.pk)
    StampCheckpoint.objects.update(stamped_at=timezone.now() - timedelta(hours=2))
    make_customer(organization=org)
    stamp_pending(org.pk)

    assert position_at(org.pk, timezone.now() - timedelta(hours=3)) == 0
    assert position_at(org.pk, timezone.now() - timedelta(hours=1)) == 1
    assert position_at(org.pk, timezone.now()) == ChangeClock.objects.get(scope=org.pk).seq


def test_backfill_enters_rows_that_predate_tracking_once(db):
    org = make_organization()
    existing = Customer.objects.bulk_create([Customer(name=f"c{n}", organization=org) for n in range(3)])
    tracked = make_customer(organization=org)
    tracked.save()

    first = ensure_backfilled(Customer, org.pk, Customer.objects.filter(organization=org))
    second = ensure_backfilled(Customer, org.pk, Customer.objects.filter(organization=org))

    assert (first, second) == (4, 0)
    assert {r.object_pk: r.version for r in SyncRecord.objects.filter(scope=org.pk)} == {
        **{str(c.pk): 1 for c in existing},
        str(tracked.pk): 2,
    }
    assert TrackedModel.objects.filter(scope=org.pk, model_label="shop.Customer").exists()


def test_mark_changed_records_rows_written_without_signals(db):
    Product.objects.bulk_create([Product(sku="A", name="a", price=1)])

    count = mark_changed(Product.objects.all())

    assert count == 1
    assert SyncRecord.objects.get(model_label="shop.Product").scope == 0


def test_compaction_removes_old_tombstones_and_raises_the_horizon(db):
    org = make_organization()
    gone, kept = make_customer(organization=org), make_customer(organization=org)
    gone.delete()
    stamp_pending(org.pk)
    SyncRecord.objects.filter(deleted=True).update(changed_at=timezone.now() - timedelta(days=100))
    tombstone_seq = SyncRecord.objects.get(deleted=True).seq

    removed = compact_tombstones(older_than=timezone.now() - timedelta(days=90))

    assert removed == 1
    assert list(SyncRecord.objects.values_list("object_pk", flat=True)) == [str(kept.pk)]
    assert clock_horizon(org.pk) == tombstone_seq


def test_compaction_keeps_recent_and_pending_tombstones(db):
    org = make_organization()
    recent = make_customer(organization=org)
    recent.delete()

    assert compact_tombstones(older_than=timezone.now() - timedelta(days=90)) == 0
    assert clock_horizon(org.pk) == 0


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_stamping_never_positions_uncommitted_changes_so_late_commits_come_after():
    org = make_organization()
    committed_first = make_customer(organization=org)
    stamp_pending(org.pk)
    a_wrote, a_may_commit, a_done = threading.Event(), threading.Event(), threading.Event()
    holder: dict[str, object] = {}

    def transaction_a() -> None:
        try:
            with transaction.atomic():
                holder["late"] = make_customer(organization=org, name="late")
                a_wrote.set()
                a_may_commit.wait(10)
        finally:
            connections.close_all()
            a_done.set()

    thread = threading.Thread(target=transaction_a)
    thread.start()
    a_wrote.wait(10)
    early = make_customer(organization=org, name="early")  # B: writes and commits while A is open
    stamp_pending(org.pk)
    cursor_after_first_pull = ChangeClock.objects.get(scope=org.pk).seq
    a_may_commit.set()
    a_done.wait(10)
    thread.join()
    stamp_pending(org.pk)

    late = holder["late"]
    assert record_of(early).seq <= cursor_after_first_pull
    assert record_of(late).seq > cursor_after_first_pull
    assert record_of(committed_first).seq < record_of(early).seq


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_stamping_skips_records_locked_by_a_writer_instead_of_waiting():
    org = make_organization()
    busy, free = make_customer(organization=org), make_customer(organization=org)
    locked, release = threading.Event(), threading.Event()

    def writer() -> None:
        try:
            with transaction.atomic():
                list(SyncRecord.objects.select_for_update().filter(object_pk=str(busy.pk)))
                locked.set()
                release.wait(10)
        finally:
            connections.close_all()

    thread = threading.Thread(target=writer)
    thread.start()
    locked.wait(10)
    stamp_pending(org.pk)
    release.set()
    thread.join()

    assert record_of(free).seq is not None
    assert record_of(busy).seq is None
    stamp_pending(org.pk)
    assert record_of(busy).seq > record_of(free).seq


def test_deleting_a_row_records_the_rows_whose_foreign_keys_it_nulls(db):
    manager = make_user()
    customer = make_customer(assigned_manager=manager)
    stamp_pending(customer.organization_id)
    before = record_of(customer)

    manager.delete()

    after = record_of(customer)
    assert (after.version, after.seq) == (before.version + 1, None)
    customer.refresh_from_db()
    assert customer.assigned_manager is None


def test_deleting_a_row_nothing_points_at_runs_no_extra_queries(db, django_assert_num_queries):
    order = make_order()

    with django_assert_num_queries(3):
        order.delete()
