"""An async push stores its body before any record is read: a body with NUL characters is refused first
(PostgreSQL stores no NUL in jsonb; the same body without async is a 400 too)."""

from __future__ import annotations

import pytest

from sbsync.demo.shop.models import Customer
from sbsync.models import SyncJob

PUSH = "push/"


@pytest.mark.parametrize(
    "record",
    [
        {"_model": "shop.Customer", "name": "a\x00b"},
        {"_model": "shop.Customer", "name": "ok", "bad\x00key": 1},
        {"_model": "shop.Customer", "name": "ok", "extra": {"nested": ["x\x00"]}},
    ],
)
def test_async_push_with_nul_is_400_and_stores_no_job(trio, api, record):
    response = api(trio.alice).post(
        PUSH, {"async": True, "data": [{"_model": "shop.Customer", "name": "fine"}, record]}
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {"data.1": ["Text may not contain NUL characters."]}
    assert (SyncJob.objects.count(), Customer.objects.count()) == (0, 0)


def test_same_body_without_async_is_400_too(trio, api):
    response = api(trio.alice).post(PUSH, {"data": [{"_model": "shop.Customer", "name": "a\x00b"}]})

    assert response.status_code == 400
    assert Customer.objects.count() == 0


def test_async_push_without_nul_is_queued(trio, api):
    response = api(trio.alice).post(
        PUSH, {"async": True, "data": [{"_model": "shop.Customer", "name": "fine"}]}
    )

    assert response.status_code == 202
    assert SyncJob.objects.count() == 1
