"""One rule for atomic pushes: any failed record, whatever the others did, is 409 atomic_rejected with
every record's result, and nothing is written."""

from __future__ import annotations

import pytest

from sbsync.demo.shop.models import Customer
from sbsync.enums import Action
from tests.factories import make_customer, make_permission

PUSH = "push/"


@pytest.mark.parametrize(
    ("records", "statuses"),
    [
        ([{"_model": "shop.Customer", "name": ""}], ["rejected"]),
        (
            [{"_model": "shop.Customer", "name": ""}, {"_model": "shop.Customer", "age": "x"}],
            ["rejected"] * 2,
        ),
        ([{"_model": "shop.Report", "report_type": "X"}], ["forbidden"]),
        (
            [{"_model": "shop.Customer", "name": "ok"}, {"_model": "shop.Customer", "name": ""}],
            ["created", "rejected"],
        ),
    ],
)
def test_atomic_push_with_failed_records_is_409_with_every_result(trio, api, settings, records, statuses):
    settings.SBSYNC = {**settings.SBSYNC, "EXCLUDE_MODELS": ["shop.Report"]}  # a model, not enabled

    response = api(trio.alice).post(PUSH, {"atomic": True, "data": records})

    body = response.json()
    assert response.status_code == 409
    assert body["error"] == "atomic_rejected"
    assert [r["status"] for r in body["results"]] == statuses
    assert Customer.objects.count() == 0


def test_atomic_push_every_record_forbidden_by_role_is_409(trio, api):
    make_permission(
        organization=trio.acme, group=trio.members, model_label="shop.Customer", actions=[Action.PULL]
    )

    response = api(trio.bob).post(PUSH, {"atomic": True, "data": [{"_model": "shop.Customer", "name": "x"}]})

    assert response.status_code == 409
    assert response.json()["results"][0]["status"] == "forbidden"


def test_atomic_push_rejected_record_names_its_field_errors(trio, api):
    response = api(trio.alice).post(PUSH, {"atomic": True, "data": [{"_model": "shop.Customer", "name": ""}]})

    assert response.json()["errors"] == {"data.0.name": ["This field cannot be blank."]}


def test_non_atomic_push_keeps_400_and_403(trio, api, settings):
    settings.SBSYNC = {**settings.SBSYNC, "EXCLUDE_MODELS": ["shop.Report"]}
    rejected = api(trio.alice).post(PUSH, {"data": [{"_model": "shop.Customer", "name": ""}]})
    forbidden = api(trio.alice).post(PUSH, {"data": [{"_model": "shop.Report", "report_type": "X"}]})

    assert (rejected.status_code, forbidden.status_code) == (400, 403)
    assert [r["status"] for r in forbidden.json()["results"]] == ["forbidden"]


def test_atomic_push_whose_only_failure_is_a_conflict_is_409(trio, api):
    customer = make_customer(organization=trio.acme)

    response = api(trio.alice).post(
        PUSH,
        {
            "atomic": True,
            "data": [{"_model": "shop.Customer", "id": str(customer.pk), "name": "x", "_version": 99}],
        },
    )

    assert response.status_code == 409
