"""The tenant attack matrix: charlie (globex) pushes with pks of acme's rows. For every attack, the answer
for acme's row is compared with the answer for a row that does not exist, and acme's data is checked
to be untouched and absent from the answer."""

from __future__ import annotations

import json

import pytest

from sbsync.demo.shop.models import Customer, Order, Report
from sbsync.models import SyncRecord
from tests.factories import make_customer, make_order

PUSH = "push/"
MISSING_UUID = "00000000-0000-4000-8000-00000000dead"
MISSING_INT = 987654321


@pytest.fixture
def acme_rows(trio):
    customer = make_customer(organization=trio.acme, name="Acme secret", age=33)
    order = make_order(customer=customer, amount="99.99")
    return customer, order


def outcome(response, index=0):
    """A record's answer without its position: what must not differ between the cases."""
    return {k: v for k, v in response.json()["results"][index].items() if k not in ("index", "id")}


def untouched(customer, order):
    customer.refresh_from_db()
    order.refresh_from_db()
    records = SyncRecord.objects.filter(object_pk__in=[str(customer.pk), str(order.pk)])
    return (
        (customer.name, customer.age, str(order.amount)) == ("Acme secret", 33, "99.99")
        and all(not r.deleted and r.version == 1 for r in records)
        and customer.history.count() == 1
    )


def leaks(response):
    return "Acme secret" in json.dumps(response.json()) or "99.99" in json.dumps(response.json())


@pytest.mark.parametrize("key", ["id", "pk"])
def test_updating_another_organizations_row_answers_like_a_missing_row(trio, api, acme_rows, key):
    customer, order = acme_rows
    client = api(trio.charlie)

    theirs = client.post(PUSH, {"data": [{"_model": "shop.Order", key: order.pk, "amount": "1.00"}]})
    missing = client.post(PUSH, {"data": [{"_model": "shop.Order", key: MISSING_INT, "amount": "1.00"}]})

    assert (theirs.status_code, outcome(theirs)) == (missing.status_code, outcome(missing))
    assert outcome(theirs) == {
        "_model": "shop.Order",
        "status": "rejected",
        "errors": {"id": ["This id cannot be used."]},
    }
    assert untouched(customer, order)
    assert not leaks(theirs)


def test_taking_another_organizations_client_key_answers_like_any_unusable_key(trio, api, acme_rows):
    customer, order = acme_rows
    client = api(trio.charlie)

    theirs = client.post(
        PUSH, {"data": [{"_model": "shop.Customer", "id": str(customer.pk), "name": "Mine now"}]}
    )
    malformed = client.post(
        PUSH, {"data": [{"_model": "shop.Customer", "id": "not-a-key", "name": "Mine now"}]}
    )

    assert (
        outcome(theirs)
        == outcome(malformed)
        == {"_model": "shop.Customer", "status": "rejected", "errors": {"id": ["This id cannot be used."]}}
    )
    assert Customer.objects.filter(organization=trio.globex).count() == 0
    assert untouched(customer, order)


@pytest.mark.parametrize(
    ("model", "theirs_pk", "missing_pk"),
    [("shop.Customer", "customer", MISSING_UUID), ("shop.Order", "order", MISSING_INT)],
)
def test_updating_with_a_version_answers_a_conflict_without_the_row(
    trio, api, acme_rows, model, theirs_pk, missing_pk
):
    customer, order = acme_rows
    pk = str(customer.pk) if theirs_pk == "customer" else order.pk
    client = api(trio.charlie)

    theirs = client.post(PUSH, {"data": [{"_model": model, "id": pk, "_version": 1}]})
    missing = client.post(PUSH, {"data": [{"_model": model, "id": missing_pk, "_version": 1}]})

    assert outcome(theirs) == outcome(missing)
    assert outcome(theirs)["server"] is None
    assert "_version" not in outcome(theirs)
    assert untouched(customer, order)
    assert not leaks(theirs)


@pytest.mark.parametrize(("model", "which"), [("shop.Customer", "customer"), ("shop.Order", "order")])
def test_deleting_another_organizations_row_answers_like_a_missing_row_and_deletes_nothing(
    trio, api, acme_rows, model, which
):
    customer, order = acme_rows
    pk = str(customer.pk) if which == "customer" else order.pk
    missing_pk = MISSING_UUID if which == "customer" else MISSING_INT
    client = api(trio.charlie)

    theirs = client.post(PUSH, {"data": [{"_model": model, "id": pk, "_deleted": True}]})
    missing = client.post(PUSH, {"data": [{"_model": model, "id": missing_pk, "_deleted": True}]})

    assert outcome(theirs) == outcome(missing) == {"_model": model, "status": "unchanged"}
    assert Customer.objects.filter(pk=customer.pk).exists() and Order.objects.filter(pk=order.pk).exists()
    assert untouched(customer, order)


@pytest.mark.parametrize("key", ["customer", "customer_id"])
def test_pointing_a_foreign_key_at_another_organizations_row_answers_like_a_missing_row(
    trio, api, acme_rows, key
):
    customer, order = acme_rows
    client = api(trio.charlie)

    theirs = client.post(
        PUSH, {"data": [{"_model": "shop.Report", key: str(customer.pk), "report_type": "AUDIT"}]}
    )
    missing = client.post(
        PUSH, {"data": [{"_model": "shop.Report", key: MISSING_UUID, "report_type": "AUDIT"}]}
    )

    assert (
        outcome(theirs)
        == outcome(missing)
        == {
            "_model": "shop.Report",
            "status": "rejected",
            "errors": {key: ["No row with this id is available to you."]},
        }
    )
    assert Report.objects.count() == 0
    assert untouched(customer, order)


def test_moving_an_own_row_onto_another_organizations_row_is_refused(trio, api, acme_rows):
    customer, order = acme_rows
    own = make_order(organization=trio.globex)

    response = api(trio.charlie).post(
        PUSH, {"data": [{"_model": "shop.Order", "id": own.pk, "customer": str(customer.pk)}]}
    )

    own.refresh_from_db()
    assert outcome(response)["errors"] == {"customer": ["No row with this id is available to you."]}
    assert own.customer.organization == trio.globex


def test_assigning_a_user_of_another_organization_answers_like_a_missing_user(trio, api, acme_rows):
    customer, order = acme_rows
    client = api(trio.charlie)

    theirs = client.post(
        PUSH, {"data": [{"_model": "shop.Customer", "name": "x", "assigned_manager": trio.alice.pk}]}
    )
    missing = client.post(
        PUSH, {"data": [{"_model": "shop.Customer", "name": "x", "assigned_manager": MISSING_INT}]}
    )
    own = client.post(
        PUSH, {"data": [{"_model": "shop.Customer", "name": "x", "assigned_manager": trio.charlie.pk}]}
    )

    assert (
        outcome(theirs)
        == outcome(missing)
        == {
            "_model": "shop.Customer",
            "status": "rejected",
            "errors": {"assigned_manager": ["No row with this id is available to you."]},
        }
    )
    assert outcome(own)["status"] == "created"


@pytest.mark.parametrize("key", ["organization", "organization_id"])
def test_naming_another_organization_in_the_tenant_field_is_refused(trio, api, acme_rows, key):
    customer, order = acme_rows
    own = make_customer(organization=trio.globex, name="Globex own")
    client = api(trio.charlie)

    moved = client.post(PUSH, {"data": [{"_model": "shop.Customer", "id": str(own.pk), key: trio.acme.pk}]})
    created = client.post(PUSH, {"data": [{"_model": "shop.Customer", "name": "x", key: trio.acme.pk}]})
    nowhere = client.post(PUSH, {"data": [{"_model": "shop.Customer", "name": "x", key: MISSING_INT}]})

    own.refresh_from_db()
    expected = {key: ["This field is set by the server to your organization."]}
    assert outcome(moved)["errors"] == outcome(created)["errors"] == outcome(nowhere)["errors"] == expected
    assert own.organization == trio.globex
    assert Customer.objects.filter(organization=trio.acme).count() == 1


def test_a_batch_of_attacks_changes_nothing_of_the_other_organization(trio, api, acme_rows):
    customer, order = acme_rows
    attacks = [
        {"_model": "shop.Customer", "id": str(customer.pk), "name": "pwned"},
        {"_model": "shop.Order", "pk": order.pk, "_deleted": True},
        {"_model": "shop.Order", "customer": str(customer.pk), "amount": "0.01"},
        {"_model": "shop.Report", "customer_id": str(customer.pk), "report_type": "AUDIT"},
    ]

    response = api(trio.charlie).post(PUSH, {"data": attacks})

    assert [r["status"] for r in response.json()["results"]] == [
        "rejected",
        "unchanged",
        "rejected",
        "rejected",
    ]
    assert untouched(customer, order)
    assert not leaks(response)
    assert Order.objects.count() == 1 and Report.objects.count() == 0
