from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction
from django.utils import timezone

from sbsync.demo.shop.models import Customer
from sbsync.models import SyncRecord
from sbsync.sync.changes.tracking import mark_changed
from tests.factories import make_customer
from tests.pulling import Replica

CUSTOMER = "shop.Customer"
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL's concurrent transactions"
)


def test_a_thousand_rows_sharing_one_timestamp_arrive_exactly_once_in_pages_of_seven(trio):
    moment = timezone.now()
    Customer.objects.bulk_create([Customer(organization=trio.acme, name=f"tie {n:04}") for n in range(1000)])
    Customer.objects.update(updated_at=moment)
    mark_changed(Customer.objects.all())
    replica = Replica(trio.alice, trio.acme, [CUSTOMER])

    pages = replica.pull_to_end(batch_size=7)

    pulled = [r["id"] for p in pages for r in p.data]
    assert len(pulled) == len(set(pulled)) == 1000
    assert set(pulled) == set(Customer.objects.values_list("id", flat=True))
    assert {len(p.data) for p in pages[:-1]} == {7}
    assert len(SyncRecord.objects.filter(changed_at__in=SyncRecord.objects.values("changed_at")[:1])) == 1000


def test_a_timestamp_start_on_tied_rows_then_cursors_misses_none(trio):
    replica = Replica(trio.alice, trio.acme, [CUSTOMER])
    replica.pull()
    since = timezone.now()
    Customer.objects.bulk_create([Customer(organization=trio.acme, name=f"tie {n}") for n in range(50)])
    Customer.objects.update(updated_at=since)
    mark_changed(Customer.objects.all())
    replica.cursors[CUSTOMER] = since.isoformat()

    pages = replica.pull_to_end(batch_size=7)

    assert sorted(r["name"] for p in pages for r in p.data) == sorted(f"tie {n}" for n in range(50))


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_change_committed_after_a_later_one_was_pulled_is_still_served(trio):
    earlier = make_customer(organization=trio.acme, name="before")
    replica = Replica(trio.alice, trio.acme, [CUSTOMER])
    replica.pull()
    wrote, may_commit, failures = threading.Event(), threading.Event(), []

    def transaction_a():
        try:
            with transaction.atomic():
                make_customer(organization=trio.acme, name="A created")
                Customer.objects.get(pk=earlier.pk).save()
                wrote.set()
                assert may_commit.wait(10)
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)
        finally:
            connection.close()

    thread_a = threading.Thread(target=transaction_a)
    thread_a.start()
    assert wrote.wait(10)
    make_customer(organization=trio.acme, name="B created")  # transaction B: writes and commits

    during = replica.pull()
    may_commit.set()
    thread_a.join(10)
    after = replica.pull()

    assert failures == []
    assert [r["name"] for r in during.data] == ["B created"]
    assert sorted((r["name"], r["_version"]) for r in after.data) == [("A created", 1), ("before", 2)]
    assert after.has_more is False
