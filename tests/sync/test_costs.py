"""Structural guards: what a push and a pull page cost in statements, whatever their size and the table's.

The engine's own statements are counted (``apply_push``, ``build_pull_page``), savepoints and
transaction control included; authentication, the SyncLog and the metrics of an API request come on top
(the benchmark prints statements per request). A push of updates, deletes (rows without orders or
reports: deleted directly, their history copied first) and creates of one model: 10 statements on
PostgreSQL (advisory locks; the lookup with its versions; creates and updates each with their history;
clock and change index in one statement) and 12 on SQLite (versions, history and clock apart)
(sbsync/docs/push.md, concurrency and cost); a pull page: 8 (7 in a test, where the snapshot is a
savepoint: savepoint, clocks and index state, the change range joined to the rows, previous sync times,
release, two metadata upserts).
"""

from __future__ import annotations

import uuid

import pytest
from django.db import connection

from sbsync.access import access_for
from sbsync.demo.shop.models import Customer
from sbsync.sync.pull.page import build_pull_page
from sbsync.sync.push.apply import apply_push
from tests.factories import make_customer

PUSH_STATEMENTS = {"postgresql": 10, "sqlite": 12}
PULL_PAGE_STATEMENTS = 8


def records_of(customers, creates):
    """A third updates, a third deletes of ``customers``, and ``creates`` new customers."""
    third = len(customers) // 3
    return (
        [{"_model": "shop.Customer", "id": str(c.pk), "name": "renamed"} for c in customers[:third]]
        + [
            {"_model": "shop.Customer", "id": str(c.pk), "_deleted": True}
            for c in customers[third : 2 * third]
        ]
        + [{"_model": "shop.Customer", "id": str(uuid.uuid4()), "name": "new"} for _ in range(creates)]
    )


@pytest.mark.parametrize("size", [30, 500])
def test_a_push_of_creates_updates_and_deletes_of_one_model_runs_a_fixed_number_of_statements(
    trio, size, django_assert_max_num_queries
):
    customers = [make_customer(organization=trio.acme, name=f"c{n}") for n in range(size)]
    # Rows of another organization: the table's size must not matter.
    Customer.objects.bulk_create([Customer(organization=trio.globex, name=f"g{n}") for n in range(size)])
    records = records_of(customers, size - 2 * (size // 3))
    access = access_for(trio.alice, trio.acme)

    with django_assert_max_num_queries(PUSH_STATEMENTS[connection.vendor]):
        result = apply_push(access=access, records=records)

    assert result.error_count == 0
    assert Customer.objects.filter(organization=trio.acme, name="renamed").count() == size // 3
    assert Customer.objects.filter(organization=trio.acme, name="new").count() == size - 2 * (size // 3)
    assert Customer.objects.filter(organization=trio.acme).count() == size - size // 3 + size - 2 * (
        size // 3
    )


@pytest.mark.parametrize("rows", [25, 2000])
def test_a_pull_page_runs_a_fixed_number_of_statements_whatever_the_table_size(
    trio, rows, django_assert_max_num_queries
):
    Customer.objects.bulk_create([Customer(organization=trio.acme, name=f"c{n}") for n in range(rows)])
    access = access_for(trio.alice, trio.acme)
    first = build_pull_page(access=access, requests={Customer: None}, batch_size=10)
    cursor = first.models["shop.Customer"].cursor.encode()

    with django_assert_max_num_queries(PULL_PAGE_STATEMENTS):
        page = build_pull_page(access=access, requests={Customer: cursor}, batch_size=10)

    assert len(page.data) == 10 and page.has_more
    assert {row["id"] for row in page.data}.isdisjoint({row["id"] for row in first.data})
