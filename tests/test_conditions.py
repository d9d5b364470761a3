from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from sbsync.conditions import condition_q, resolved, validate_condition
from sbsync.demo.shop.models import Customer
from tests.factories import make_customer, make_organization, make_user


@pytest.mark.parametrize(
    ("condition", "key"),
    [
        ("text", "condition"),
        ({"field": "name", "operator": "exact", "value": "x", "extra": 1}, "condition"),
        ({"field": "nope", "operator": "exact", "value": "x"}, "field"),
        ({"field": "name", "operator": "regex", "value": "x"}, "operator"),
        ({"field": "age", "operator": "contains", "value": "4"}, "operator"),
        ({"field": "age", "operator": "exact", "value": "old"}, "value"),
        ({"field": "name", "operator": "in", "value": "x"}, "value"),
        ({"field": "name", "operator": "isnull", "value": "yes"}, "value"),
        ({"field": "assigned_manager", "operator": "exact", "value": "$boss"}, "value"),
        ({"field": "department", "operator": "exact", "value": "NOPE"}, "value"),
    ],
)
def test_invalid_conditions_name_what_is_wrong(condition, key):
    with pytest.raises(ValidationError) as error:
        validate_condition(Customer, condition)

    assert key in error.value.message_dict


@pytest.mark.parametrize(
    "condition",
    [
        {"field": "assigned_manager", "operator": "exact", "value": "$user"},
        {"field": "assigned_manager_id", "operator": "in", "value": ["$user", 3]},
        {"field": "department", "operator": "in", "value": ["SALES", "SUPPORT"]},
        {"field": "age", "operator": "gte", "value": 18},
        {"field": "name", "operator": "icontains", "value": "corp"},
        {"field": "assigned_manager", "operator": "isnull", "value": True},
    ],
)
def test_valid_conditions_pass(condition):
    validate_condition(Customer, condition)


def test_user_placeholder_selects_the_requesting_users_rows(db):
    org, mary, tom = make_organization(), make_user(), make_user()
    mine = make_customer(organization=org, assigned_manager=mary)
    make_customer(organization=org, assigned_manager=tom)
    make_customer(organization=org)
    condition = {"field": "assigned_manager", "operator": "exact", "value": "$user"}

    rows = Customer.objects.filter(condition_q(Customer, condition, mary))

    assert list(rows) == [mine]


def test_not_equal_keeps_empty_values(db):
    org = make_organization()
    sales = make_customer(organization=org, department="SALES")
    other = make_customer(organization=org, department="SUPPORT")
    empty = make_customer(organization=org, department="")
    unassigned = make_customer(organization=org, assigned_manager=None)

    rows = set(
        Customer.objects.filter(
            condition_q(Customer, {"field": "department", "operator": "ne", "value": "SALES"}, None)
        )
    )
    managers = set(
        Customer.objects.filter(
            condition_q(Customer, {"field": "assigned_manager", "operator": "ne", "value": 999}, None)
        )
    )

    assert sales not in rows and {other, empty} <= rows
    assert unassigned in managers


def test_resolved_replaces_placeholders_for_fingerprints(db):
    user = make_user(username="mary")

    assert (
        resolved({"field": "assigned_manager", "operator": "exact", "value": "$user"}, user)["value"]
        == user.pk
    )
    assert resolved({"field": "name", "operator": "in", "value": ["$user.username", "x"]}, user)["value"] == [
        "mary",
        "x",
    ]
