from __future__ import annotations

import pytest
from django.db import transaction

from sbsync.demo.shop.models import Customer, Order
from sbsync.sync.push.history import deferred_history
from tests.factories import make_order


def test_deferred_history_inserts_the_rows_of_a_cascade_once_the_block_ends(db):
    orders = [make_order() for _ in range(3)]

    with deferred_history():
        Customer.objects.filter(pk__in=[o.customer_id for o in orders]).delete()
        assert Customer.history.filter(history_type="-").count() == 0

    assert Customer.history.filter(history_type="-").count() == 3
    assert Order.history.filter(history_type="-").count() == 3


def test_deferred_history_inserts_nothing_when_the_block_fails(db):
    order = make_order()

    with pytest.raises(RuntimeError), transaction.atomic(), deferred_history():
        order.customer.delete()
        raise RuntimeError("rolled back")

    assert Customer.history.filter(history_type="-").count() == 0
    assert Customer.objects.count() == 1


def test_deletes_outside_the_block_keep_simple_historys_own_saves(db):
    order = make_order()

    order.delete()

    assert Order.history.filter(history_type="-").count() == 1
