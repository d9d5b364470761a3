"""Foreign keys on push by field name (``assigned_manager``) or attname (``assigned_manager_id``, as sb-sync's
payloads write them), and what pull returns (the field name, with the target's primary key)."""

from __future__ import annotations

import pytest

from sbsync.demo.shop.models import Customer, Report
from tests.factories import make_customer

PUSH, PULL = "push/", "pull/"


@pytest.mark.parametrize("key", ["assigned_manager", "assigned_manager_id"])
def test_a_user_foreign_key_is_written_by_name_or_attname(trio, api, key):
    body = {"data": [{"_model": "shop.Customer", "name": "John Doe", key: trio.bob.pk}]}

    response = api(trio.alice).post(PUSH, body)

    assert response.json()["results"][0]["status"] == "created"
    assert Customer.objects.get().assigned_manager == trio.bob


@pytest.mark.parametrize("key", ["customer", "customer_id"])
def test_a_synced_foreign_key_is_written_by_name_or_attname_and_updated_either_way(trio, api, key):
    first, second = make_customer(organization=trio.acme), make_customer(organization=trio.acme)
    create = {"data": [{"_model": "shop.Report", key: str(first.pk), "report_type": "ANALYSIS"}]}

    created = api(trio.alice).post(PUSH, create).json()["results"][0]
    other_key = "customer_id" if key == "customer" else "customer"
    update = {"data": [{"_model": "shop.Report", "id": created["id"], other_key: str(second.pk)}]}
    updated = api(trio.alice).post(PUSH, update).json()["results"][0]

    assert (created["status"], updated["status"]) == ("created", "updated")
    assert Report.objects.get().customer == second


def test_both_keys_of_one_foreign_key_in_a_record_are_an_error_and_write_nothing(trio, api):
    body = {
        "data": [
            {
                "_model": "shop.Customer",
                "name": "Twice",
                "assigned_manager": trio.bob.pk,
                "assigned_manager_id": trio.bob.pk,
            }
        ]
    }

    result = api(trio.alice).post(PUSH, body).json()["results"][0]

    assert result["status"] == "rejected"
    assert list(result["errors"]) == ["assigned_manager_id"]
    assert not Customer.objects.exists()


def test_an_attname_pointing_outside_the_callers_view_is_refused_like_the_name(trio, api):
    theirs = make_customer(organization=trio.globex)

    by_name, by_attname = (
        api(trio.alice)
        .post(PUSH, {"data": [{"_model": "shop.Report", key: str(theirs.pk), "report_type": "ANALYSIS"}]})
        .json()["results"][0]
        for key in ("customer", "customer_id")
    )

    assert by_name["errors"] == {"customer": ["No row with this id is available to you."]}
    assert by_attname["errors"] == {"customer_id": ["No row with this id is available to you."]}
    assert not Report.objects.exists()


def test_pull_returns_foreign_keys_under_the_field_name_with_the_target_primary_key(trio, api):
    customer = make_customer(organization=trio.acme, assigned_manager=trio.bob)
    Report.objects.create(organization=trio.acme, customer=customer, report_type="ANALYSIS")

    data = api(trio.alice).post(PULL, {"models": {"shop.Customer": None, "shop.Report": None}}).json()["data"]

    by_model = {record["_model"]: record for record in data}
    assert by_model["shop.Customer"]["assigned_manager"] == trio.bob.pk
    assert by_model["shop.Report"]["customer"] == str(customer.pk)
    assert "assigned_manager_id" not in by_model["shop.Customer"]
    assert "customer_id" not in by_model["shop.Report"]
