"""Guards no other test decides: an atomic push whose only failure appears in the write phase rolls back
its valid records too, and pull's visibility includes the organization even when the change index is
stale (a row moved away without a signal)."""

from __future__ import annotations

from sbsync.demo.shop.models import Customer
from sbsync.enums import Action
from tests.factories import make_customer, make_filter, make_permission

CUSTOMER = "shop.Customer"


def test_atomic_push_whose_failure_appears_only_when_writing_commits_nothing(trio, api):
    make_permission(
        organization=trio.acme,
        group=trio.members,
        model_label=CUSTOMER,
        actions=[Action.PUSH, Action.CREATE, Action.UPDATE, Action.PULL, Action.READ],
    )
    make_filter(organization=trio.acme, group=trio.members, model_label=CUSTOMER)
    mine = make_customer(organization=trio.acme, assigned_manager=trio.bob, name="mine")
    body = {
        "atomic": True,
        "data": [
            {"_model": CUSTOMER, "name": "valid new one", "assigned_manager": trio.bob.pk},
            # Passes every check when decided; leaves bob's view only once written.
            {"_model": CUSTOMER, "id": str(mine.pk), "assigned_manager": trio.alice.pk},
        ],
    }

    response = api(trio.bob).post("push/", body)

    assert response.status_code == 409
    assert [r["status"] for r in response.json()["results"]] == ["created", "rejected"]
    assert list(Customer.objects.values_list("name", "assigned_manager")) == [("mine", trio.bob.pk)]


def test_a_row_moved_to_another_organization_without_a_signal_is_not_served_to_its_old_one(trio, api):
    moved = make_customer(organization=trio.acme, name="acme's")
    Customer.objects.filter(pk=moved.pk).update(organization=trio.globex, name="globex secret")

    body = api(trio.alice).post("pull/", {"models": {CUSTOMER: None}}).json()

    assert body["data"] == []
    assert "globex secret" not in str(body)
