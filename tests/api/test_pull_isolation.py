"""No pull returns another organization's rows or tombstones, or rows outside the role's filters. Each test
first creates what could leak, then pulls to the end, then looks at everything that came back."""

from __future__ import annotations

import pytest

from sbsync.enums import Action
from tests.api.test_pull import pull, pull_to_end
from tests.factories import make_customer, make_filter, make_order, make_permission

CUSTOMER = "shop.Customer"
LABELS = [CUSTOMER, "shop.Order", "shop.Report"]


@pytest.fixture
def two_tenants(trio):
    """acme and globex each with live rows, deleted rows, and rows that moved away from them."""
    rows = {}
    for org in (trio.acme, trio.globex):
        customer = make_customer(organization=org, name=f"{org.slug} customer")
        make_order(organization=org, customer=customer)
        make_customer(organization=org, name=f"{org.slug} deleted").delete()
        rows[org.slug] = customer
    return trio, rows


def everything(pages):
    return [r for p in pages for r in p["data"]], [r for p in pages for r in p["deleted"]]


def test_a_pull_never_returns_another_organizations_rows_or_tombstones(two_tenants, api):
    trio, rows = two_tenants
    client = api(trio.charlie)
    first = pull_to_end(client, LABELS, batch_size=1)
    make_customer(organization=trio.acme, name="acme later").delete()
    make_order(organization=trio.acme, customer=rows["acme"])
    cursors = {label: meta["cursor"] for label, meta in first[-1]["metadata"].items()}

    later = pull(client, cursors, batch_size=50).json()

    data, deleted = everything([*first, later])
    assert {r["organization"] for r in data} == {trio.globex.pk}
    assert sorted(r["_model"] for r in data) == [CUSTOMER, "shop.Order"]
    assert deleted == []


def test_a_row_moved_away_is_only_a_tombstone_for_its_old_organization(two_tenants, api):
    trio, rows = two_tenants
    acme_client = api(trio.alice)
    start = pull_to_end(acme_client, [CUSTOMER], batch_size=10)[-1]["metadata"][CUSTOMER]["cursor"]
    moved = rows["acme"]
    moved.organization = trio.globex
    moved.name = "now globex's"
    moved.save()

    after = pull(acme_client, {CUSTOMER: start}).json()

    assert after["data"] == []
    assert after["deleted"] == [{"_model": CUSTOMER, "id": str(moved.pk), "_version": 2}]


def test_rows_outside_the_roles_filters_never_come_back_as_data(trio, api):
    make_permission(organization=trio.acme, group=trio.members, model_label=CUSTOMER, actions=[Action.PULL])
    make_filter(organization=trio.acme, group=trio.members, model_label=CUSTOMER)
    make_filter(
        organization=trio.acme,
        group=trio.members,
        model_label=CUSTOMER,
        condition={"field": "department", "operator": "in", "value": ["SALES", "SUPPORT"]},
    )
    visible = make_customer(
        organization=trio.acme, assigned_manager=trio.bob, department="SALES", name="bob sales"
    )
    make_customer(organization=trio.acme, assigned_manager=trio.bob, department="FINANCE", name="bob finance")
    make_customer(organization=trio.acme, assigned_manager=trio.alice, department="SALES", name="alice sales")
    make_customer(
        organization=trio.acme, assigned_manager=trio.bob, department="SALES", name="bob gone"
    ).delete()
    make_customer(organization=trio.globex, assigned_manager=trio.bob, department="SALES", name="globex")

    data, deleted = everything(pull_to_end(api(trio.bob), [CUSTOMER], batch_size=1))

    assert [r["id"] for r in data] == [str(visible.pk)]
    assert deleted == []


def test_a_role_without_can_pull_on_a_model_gets_403_and_no_rows(two_tenants, api):
    trio, _ = two_tenants
    make_permission(organization=trio.acme, group=trio.members, model_label=CUSTOMER, actions=[Action.PULL])

    allowed = pull(api(trio.bob), {CUSTOMER: None})
    refused = pull(api(trio.bob), {CUSTOMER: None, "shop.Order": None})

    assert [r["name"] for r in allowed.json()["data"]] == ["acme customer"]
    assert refused.status_code == 403
    assert refused.json()["error"] == "forbidden" and "shop.Order" in refused.json()["detail"]
    assert "data" not in refused.json()


def test_a_permission_granted_in_another_organization_does_not_apply(two_tenants, api):
    trio, _ = two_tenants
    make_permission(organization=trio.globex, group=trio.members, model_label=CUSTOMER, actions=[Action.PULL])

    response = pull(api(trio.bob), {CUSTOMER: None})

    assert (response.status_code, response.json()["error"]) == (403, "forbidden")


def test_naming_an_organization_one_does_not_belong_to_is_403(two_tenants, api):
    trio, _ = two_tenants

    response = pull(api(trio.charlie, "acme"), {CUSTOMER: None})

    assert (response.status_code, response.json()["error"]) == (403, "not_a_member")
    assert "acme customer" not in response.content.decode()


def test_another_organizations_cursor_reveals_nothing(two_tenants, api):
    trio, _ = two_tenants
    acme_cursor = pull(api(trio.alice), {CUSTOMER: None}).json()["metadata"][CUSTOMER]["cursor"]

    response = pull(api(trio.charlie), {CUSTOMER: acme_cursor})

    assert (response.status_code, response.json()["error"]) == (400, "invalid_cursor")
    assert "acme" not in response.content.decode()
