"""Every permission flag and a ``$user`` data filter, enforced on push. bob is a member of acme whose
group gets exactly the flags each test names; each test fails if its check is removed."""

from __future__ import annotations

import uuid

import pytest

from sbsync.demo.shop.models import Customer, Report
from sbsync.enums import Action
from sbsync.models import SyncRecord
from tests.factories import make_customer, make_filter, make_permission

PUSH = "push/"
ALL_BUT = {flag: [a for a in Action.values if a != flag] for flag in Action.values}


def grant(trio, actions, model_label="shop.Customer"):
    return make_permission(
        organization=trio.acme, group=trio.members, model_label=model_label, actions=actions
    )


def statuses(response):
    return [r["status"] for r in response.json()["results"]]


def test_without_can_push_every_record_is_forbidden(trio, api):
    grant(trio, ALL_BUT[Action.PUSH])

    response = api(trio.bob).post(PUSH, {"data": [{"_model": "shop.Customer", "name": "x"}]})

    assert response.status_code == 403
    assert statuses(response) == ["forbidden"]
    assert Customer.objects.count() == 0


def test_without_can_create_creates_are_forbidden_but_updates_work(trio, api):
    grant(trio, ALL_BUT[Action.CREATE])
    existing = make_customer(organization=trio.acme, name="old")

    response = api(trio.bob).post(
        PUSH,
        {
            "data": [
                {"_model": "shop.Customer", "id": str(uuid.uuid4()), "name": "new"},
                {"_model": "shop.Customer", "name": "new"},
                {"_model": "shop.Customer", "id": str(existing.pk), "name": "renamed"},
            ]
        },
    )

    assert statuses(response) == ["forbidden", "forbidden", "updated"]
    assert list(Customer.objects.values_list("name", flat=True)) == ["renamed"]


def test_without_can_update_updates_are_forbidden_and_the_row_kept(trio, api):
    grant(trio, ALL_BUT[Action.UPDATE])
    existing = make_customer(organization=trio.acme, name="old")

    response = api(trio.bob).post(
        PUSH,
        {
            "data": [
                {"_model": "shop.Customer", "id": str(existing.pk), "name": "renamed"},
                {"_model": "shop.Customer", "id": str(existing.pk), "name": "old", "_version": 1},
                {"_model": "shop.Customer", "name": "created"},
            ]
        },
    )

    existing.refresh_from_db()
    assert statuses(response)[0] == "forbidden"
    assert statuses(response)[2] == "created"
    assert existing.name == "old"
    assert SyncRecord.objects.get(object_pk=str(existing.pk)).version == 1


def test_without_can_update_a_versioned_record_of_a_missing_row_is_forbidden(trio, api):
    grant(trio, ALL_BUT[Action.UPDATE])

    response = api(trio.bob).post(
        PUSH, {"data": [{"_model": "shop.Customer", "id": str(uuid.uuid4()), "_version": 2}]}
    )

    assert statuses(response) == ["forbidden"]


def test_without_can_delete_deletes_are_forbidden_and_the_row_kept(trio, api):
    grant(trio, ALL_BUT[Action.DELETE])
    existing = make_customer(organization=trio.acme)

    response = api(trio.bob).post(
        PUSH, {"data": [{"_model": "shop.Customer", "id": str(existing.pk), "_deleted": True}]}
    )

    assert response.status_code == 403
    assert statuses(response) == ["forbidden"]
    assert Customer.objects.filter(pk=existing.pk).exists()


@pytest.mark.parametrize(("actions", "server_shown"), [(Action.values, True), (ALL_BUT[Action.READ], False)])
def test_can_read_decides_whether_a_conflict_shows_the_server_row(trio, api, actions, server_shown):
    grant(trio, actions)
    existing = make_customer(organization=trio.acme, name="server side")
    existing.save()

    response = api(trio.bob).post(
        PUSH, {"data": [{"_model": "shop.Customer", "id": str(existing.pk), "name": "x", "_version": 1}]}
    )

    conflict = response.json()["results"][0]
    assert (conflict["status"], conflict["_version"]) == ("conflict", 2)
    assert ("server" in conflict) is server_shown
    assert ("server side" in str(conflict)) is server_shown


@pytest.mark.parametrize(
    ("customer_actions", "status"), [(Action.values, "created"), (ALL_BUT[Action.PULL], "rejected")]
)
def test_foreign_keys_need_can_pull_on_the_target_model(trio, api, customer_actions, status):
    grant(trio, customer_actions)
    grant(trio, Action.values, model_label="shop.Report")
    customer = make_customer(organization=trio.acme)

    response = api(trio.bob).post(
        PUSH, {"data": [{"_model": "shop.Report", "customer": str(customer.pk), "report_type": "AUDIT"}]}
    )

    assert statuses(response) == [status]
    assert Report.objects.count() == (1 if status == "created" else 0)


@pytest.fixture
def sales(trio):
    """bob sees only the customers assigned to him (the seed's Sales role)."""
    grant(trio, Action.values)
    grant(trio, Action.values, model_label="shop.Report")
    make_filter(
        organization=trio.acme,
        group=trio.members,
        model_label="shop.Customer",
        condition={"field": "assigned_manager", "operator": "exact", "value": "$user"},
    )
    mine = make_customer(organization=trio.acme, name="mine", assigned_manager=trio.bob)
    theirs = make_customer(organization=trio.acme, name="theirs", assigned_manager=trio.alice)
    return mine, theirs


def test_user_filter_allows_rows_inside_the_view(trio, api, sales):
    mine, theirs = sales

    response = api(trio.bob).post(
        PUSH,
        {
            "data": [
                {"_model": "shop.Customer", "id": str(mine.pk), "name": "mine, renamed"},
                {"_model": "shop.Customer", "name": "new and mine", "assigned_manager": trio.bob.pk},
            ]
        },
    )

    assert statuses(response) == ["updated", "created"]
    assert Customer.objects.get(name="new and mine").assigned_manager == trio.bob


def test_user_filter_hides_other_rows_from_update(trio, api, sales):
    mine, theirs = sales

    response = api(trio.bob).post(
        PUSH, {"data": [{"_model": "shop.Customer", "id": str(theirs.pk), "name": "taken over"}]}
    )

    theirs.refresh_from_db()
    assert response.json()["results"][0]["errors"] == {"id": ["This id cannot be used."]}
    assert theirs.name == "theirs"


def test_user_filter_hides_other_rows_from_delete(trio, api, sales):
    mine, theirs = sales

    response = api(trio.bob).post(
        PUSH, {"data": [{"_model": "shop.Customer", "id": str(theirs.pk), "_deleted": True}]}
    )

    assert statuses(response) == ["unchanged"]
    assert Customer.objects.filter(pk=theirs.pk).exists()


def test_user_filter_refuses_rows_that_would_leave_the_view(trio, api, sales):
    mine, theirs = sales

    response = api(trio.bob).post(
        PUSH,
        {
            "data": [
                {"_model": "shop.Customer", "id": str(mine.pk), "assigned_manager": trio.alice.pk},
                {"_model": "shop.Customer", "name": "for alice", "assigned_manager": trio.alice.pk},
                {"_model": "shop.Customer", "name": "for nobody"},
                {"_model": "shop.Customer", "name": "fine", "assigned_manager": trio.bob.pk},
            ]
        },
    )

    mine.refresh_from_db()
    assert statuses(response) == ["rejected", "rejected", "rejected", "created"]
    assert response.json()["results"][0]["errors"] == {
        "non_field_errors": ["After this change the row would be outside the rows you may see."]
    }
    assert mine.assigned_manager == trio.bob
    assert sorted(Customer.objects.values_list("name", flat=True)) == ["fine", "mine", "theirs"]
    assert mine.history.count() == 1


def test_rows_written_again_after_one_left_the_view_have_one_history_row_each(trio, api, sales):
    # The batch is written, read back through the view, rolled back and written again without the row
    # that left it: history written with the rows must be rolled back and written again with them.
    mine, _ = sales
    also_mine = make_customer(organization=trio.acme, name="also mine", assigned_manager=trio.bob)
    records = [
        {"_model": "shop.Customer", "id": str(mine.pk), "name": "gone", "assigned_manager": trio.alice.pk},
        {
            "_model": "shop.Customer",
            "id": str(also_mine.pk),
            "name": "renamed",
            "assigned_manager": trio.bob.pk,
        },
    ]
    created = [
        {"_model": "shop.Customer", "id": str(uuid.uuid4()), "name": name, "assigned_manager": manager.pk}
        for name, manager in (("for alice", trio.alice), ("new", trio.bob))
    ]

    response = api(trio.bob).post(PUSH, {"data": records + created})

    assert statuses(response) == ["rejected", "updated", "rejected", "created"]
    assert [(h.history_type, h.history_user) for h in mine.history.all()] == [("+", None)]
    assert [(h.history_type, h.name, h.history_user) for h in also_mine.history.all()] == [
        ("~", "renamed", trio.bob),
        ("+", "also mine", None),
    ]
    new = Customer.objects.get(pk=created[1]["id"])
    assert [(h.history_type, h.history_user) for h in new.history.all()] == [("+", trio.bob)]
    assert not Customer.history.filter(name="for alice").exists()


def test_user_filter_rejects_dependents_of_rows_that_would_leave_the_view(trio, api, sales):
    key = str(uuid.uuid4())

    response = api(trio.bob).post(
        PUSH,
        {
            "data": [
                {
                    "_model": "shop.Customer",
                    "id": key,
                    "name": "for alice",
                    "assigned_manager": trio.alice.pk,
                },
                {"_model": "shop.Report", "customer": key, "report_type": "AUDIT"},
            ]
        },
    )

    assert statuses(response) == ["rejected", "rejected"]
    assert response.json()["results"][1]["errors"] == {
        "customer": ["No row with this id is available to you."]
    }
    assert Report.objects.count() == 0


def test_user_filter_hides_rows_from_foreign_keys(trio, api, sales):
    mine, theirs = sales

    response = api(trio.bob).post(
        PUSH,
        {
            "data": [
                {"_model": "shop.Report", "customer": str(theirs.pk), "report_type": "AUDIT"},
                {"_model": "shop.Report", "customer": str(mine.pk), "report_type": "AUDIT"},
            ]
        },
    )

    assert statuses(response) == ["rejected", "created"]
    assert Report.objects.get().customer == mine
