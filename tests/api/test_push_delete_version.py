"""A delete that carries ``_version`` deletes that version only (no lost update); without ``_version`` it
stays unconditional."""

from __future__ import annotations

from sbsync.demo.shop.models import Customer, Order
from sbsync.models import SyncRecord
from tests.factories import make_customer, make_order

PUSH = "push/"


def version_of(row) -> int:
    return SyncRecord.objects.get(object_pk=str(row.pk), model_label=row._meta.label).version


def test_delete_with_a_stale_version_is_a_conflict_and_deletes_nothing(trio, api):
    customer = make_customer(organization=trio.acme, name="v1")
    order = make_order(customer=customer)
    seen = version_of(customer)
    customer.name = "v2 by another client"
    customer.save()

    response = api(trio.alice).post(
        PUSH,
        {"data": [{"_model": "shop.Customer", "id": str(customer.pk), "_deleted": True, "_version": seen}]},
    )

    result = response.json()["results"][0]
    assert response.status_code == 200
    assert (result["status"], result["_version"], result["server"]["name"]) == (
        "conflict",
        version_of(customer),
        "v2 by another client",
    )
    assert Customer.objects.filter(pk=customer.pk).exists()
    assert Order.objects.filter(pk=order.pk).exists()


def test_delete_with_the_current_version_deletes_with_its_cascade(trio, api):
    customer = make_customer(organization=trio.acme)
    make_order(customer=customer)

    response = api(trio.alice).post(
        PUSH,
        {
            "data": [
                {
                    "_model": "shop.Customer",
                    "id": str(customer.pk),
                    "_deleted": True,
                    "_version": version_of(customer),
                }
            ]
        },
    )

    assert response.json()["results"][0]["status"] == "deleted"
    assert (Customer.objects.count(), Order.objects.count()) == (0, 0)


def test_delete_without_a_version_stays_unconditional(trio, api):
    customer = make_customer(organization=trio.acme)
    customer.name = "changed"
    customer.save()

    response = api(trio.alice).post(
        PUSH, {"data": [{"_model": "shop.Customer", "id": str(customer.pk), "_deleted": True}]}
    )

    assert response.json()["results"][0]["status"] == "deleted"
    assert Customer.objects.count() == 0


def test_atomic_push_with_a_stale_delete_writes_nothing(trio, api):
    customer = make_customer(organization=trio.acme)
    seen = version_of(customer)
    customer.save()

    response = api(trio.alice).post(
        PUSH,
        {
            "atomic": True,
            "data": [
                {"_model": "shop.Customer", "name": "New"},
                {"_model": "shop.Customer", "id": str(customer.pk), "_deleted": True, "_version": seen},
            ],
        },
    )

    assert response.status_code == 409
    assert [r["status"] for r in response.json()["results"]] == ["created", "conflict"]
    assert list(Customer.objects.values_list("pk", flat=True)) == [customer.pk]
