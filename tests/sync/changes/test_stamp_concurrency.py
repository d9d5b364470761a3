"""Two stamping runs on one scope at once (PostgreSQL): the second waits for the clock's row lock, so
positions stay distinct and come after everything the first handed out."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections, transaction

from sbsync.models import SyncRecord
from sbsync.sync.changes.index import pk_key, stamp_pending
from tests.factories import make_customer, make_organization

postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks")


def seq_of(customer) -> int | None:
    return SyncRecord.objects.get(
        model_label="shop.Customer", object_pk=pk_key(type(customer), customer.pk)
    ).seq


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_stamping_runs_hand_out_distinct_positions_after_the_first_runs():
    org = make_organization()
    first = [make_customer(organization=org) for _ in range(3)]
    stamped, may_commit = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def run_a() -> None:
        try:
            with transaction.atomic():
                stamp_pending(org.pk)
                stamped.set()
                may_commit.wait(10)
        except BaseException as exc:  # reported by the test thread
            failures.append(exc)
        finally:
            connections.close_all()

    def run_b() -> None:
        try:
            stamp_pending(org.pk)
        except BaseException as exc:
            failures.append(exc)
        finally:
            connections.close_all()

    a = threading.Thread(target=run_a)
    a.start()
    stamped.wait(10)
    later = [make_customer(organization=org) for _ in range(2)]
    b = threading.Thread(target=run_b)
    b.start()
    time.sleep(0.5)  # b reaches the clock's lock while a still holds it
    may_commit.set()
    a.join(10)
    b.join(10)

    seqs_first = [seq_of(c) for c in first]
    seqs_later = [seq_of(c) for c in later]
    assert failures == []
    assert None not in seqs_first + seqs_later
    assert len(set(seqs_first + seqs_later)) == 5
    assert min(seqs_later) > max(seqs_first)
