from __future__ import annotations

import uuid

from django.db import connection
from django.test.utils import CaptureQueriesContext

from sbsync.demo.shop.models import Customer, Order
from tests.factories import make_customer, make_filter, make_order

PUSH = "push/"


def mixed_push(organization, manager, size):
    """``size`` records: new customers with client keys, updates of existing customers (a foreign key to
    a user), new orders pointing at existing and at new customers, and deletes of customers that have
    an order (cascaded)."""
    existing = [make_customer(organization=organization, name=f"old {n}") for n in range(size // 4)]
    doomed = [make_order(organization=organization).customer for _ in range(size // 10)]
    new_keys = [str(uuid.uuid4()) for _ in range(size // 4)]
    records = [
        {"_model": "shop.Customer", "id": key, "name": "new", "department": "SALES"} for key in new_keys
    ]
    records += [
        {"_model": "shop.Customer", "id": str(c.pk), "name": "renamed", "assigned_manager": manager.pk}
        for c in existing
    ]
    records += [{"_model": "shop.Order", "customer": str(c.pk), "amount": "3.50"} for c in existing]
    records += [{"_model": "shop.Order", "customer": key, "amount": "4.50"} for key in new_keys]
    records += [{"_model": "shop.Customer", "id": str(c.pk), "_deleted": True} for c in doomed]
    return {"data": records}


def test_a_push_of_500_records_runs_no_more_queries_than_a_push_of_50(
    trio, api, django_assert_max_num_queries
):
    make_filter(
        organization=trio.acme,
        group=trio.owners,
        model_label="shop.Customer",
        condition={"field": "department", "operator": "ne", "value": "FINANCE"},
    )
    client = api(trio.alice)
    client.post(PUSH, mixed_push(trio.acme, trio.alice, 4))
    small, large = mixed_push(trio.acme, trio.alice, 50), mixed_push(trio.acme, trio.alice, 500)

    with CaptureQueriesContext(connection) as queries_for_50:
        small_response = client.post(PUSH, small)
    with django_assert_max_num_queries(len(queries_for_50)):
        large_response = client.post(PUSH, large)

    assert small_response.json()["success_count"] == 48 + 5
    assert large_response.json()["status"] == "success"
    assert large_response.json()["processed_models"] == {
        "shop.Customer": {"created": 125, "updated": 125, "deleted": 50},
        "shop.Order": {"created": 250, "updated": 0, "deleted": 0},
    }
    assert Customer.objects.filter(name="renamed", assigned_manager=trio.alice).count() == 1 + 12 + 125
    assert Order.objects.count() == 2 + 24 + 250
    assert Customer.history.filter(history_type="-", history_user=trio.alice).count() == 5 + 50
    assert Order.history.filter(history_type="-", history_user=trio.alice).count() == 5 + 50
