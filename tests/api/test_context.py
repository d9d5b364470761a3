"""The organization of a request is resolved before its envelope is read, alike for push and pull:
who is asking before what is asked (sbsync/docs/protocol.md section 3)."""

from __future__ import annotations

import pytest

from sbsync.enums import LogStatus, Operation
from sbsync.models import SyncLog

BAD_BODIES = [
    {"data": "not a list", "models": "not an object"},
    {"unknown": 1},
    {"data": [{"_model": "shop.Customer"}] * 5, "models": {"shop.Nope": None}, "batch_size": 0},
]


@pytest.mark.parametrize("body", BAD_BODIES)
def test_a_non_member_with_a_bad_body_gets_the_same_403_on_push_and_pull(trio, api, settings, body):
    settings.SBSYNC = {**settings.SBSYNC, "MAX_PUSH_RECORDS": 2}
    client = api(trio.alice, organization="globex")

    pushed = client.post("push/", body)
    pulled = client.post("pull/", body)

    assert (pushed.status_code, pulled.status_code) == (403, 403)
    assert (
        pushed.json()
        == pulled.json()
        == {
            "error": "not_a_member",
            "detail": "You are not an active member of organization 'globex'.",
        }
    )


def test_a_member_with_a_bad_body_gets_400_on_push_and_pull(trio, api):
    client = api(trio.alice, organization="acme")

    pushed = client.post("push/", {"unknown": 1})
    pulled = client.post("pull/", {"unknown": 1})

    assert (pushed.status_code, pulled.status_code) == (400, 400)
    assert (pushed.json()["error"], pulled.json()["error"]) == ("validation_error", "validation_error")
    assert (list(pushed.json()["errors"]), list(pulled.json()["errors"])) == (["unknown"], ["unknown"])


def test_a_pull_refused_for_its_organization_is_logged_without_one(trio, api):
    response = api(trio.alice, organization="globex").post("pull/", {"models": {"shop.Customer": None}})

    log = SyncLog.objects.get()
    assert response.status_code == 403
    assert (log.operation, log.status, log.user, log.organization, log.model_names) == (
        Operation.PULL,
        LogStatus.ERROR,
        trio.alice,
        None,
        ["shop.Customer"],
    )
    assert log.errors == [{"error": "not_a_member", "detail": response.json()["detail"], "status": 403}]
