"""Bodies every JSON endpoint refuses before anything walks them: nested too deeply, or chunked without a
Content-Length (Django's WSGI request would read it as empty)."""

from __future__ import annotations

import pytest
from django.test import Client

from sbsync.models import SyncJob, SyncLog
from tests.api.conftest import token_for

DEEP = "[" * 470 + "]" * 470
TOO_DEEP = {
    "error": "validation_error",
    "detail": "Values nest too deeply: the body may nest at most 32 levels of lists and objects.",
}


@pytest.mark.parametrize(
    "body",
    [
        f'{{"models": {{"shop.Customer": null}}, "organization": {DEEP}}}',
        f'{{"models": {DEEP}}}',
        f'{{"models": {{"shop.Customer": {DEEP}}}}}',
    ],
)
def test_pull_body_nested_too_deeply_is_400(trio, body):
    response = Client().post(
        "/api/sync/pull/",
        body,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token_for(trio.alice)}"},
    )

    assert response.status_code == 400
    assert response.json() == TOO_DEEP


@pytest.mark.parametrize("path", ["push/", "auth/token/"])
def test_other_json_bodies_nested_too_deeply_are_400(trio, path):
    response = Client().post(
        f"/api/sync/{path}",
        f'{{"data": [{{"_model": "shop.Customer", "name": {DEEP}}}], "async": true}}',
        content_type="application/json",
        headers={"Authorization": f"Bearer {token_for(trio.alice)}"},
    )

    assert (response.status_code, response.json()) == (400, TOO_DEEP)
    assert SyncJob.objects.count() == 0


def test_body_at_the_depth_limit_is_read(trio):
    nested = "[" * 29 + "]" * 29
    response = Client().post(
        "/api/sync/pull/",
        f'{{"models": {{"shop.Customer": null}}, "batch_size": {nested}}}',
        content_type="application/json",
        headers={"Authorization": f"Bearer {token_for(trio.alice)}"},
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "batch_size": ["batch_size must be a whole number between 1 and 1000."]
    }


@pytest.mark.parametrize("path", ["push/", "pull/", "auth/token/"])
def test_chunked_body_without_content_length_is_411_not_empty(trio, path):
    # What a WSGI server such as gunicorn hands Django for a chunked request: no CONTENT_LENGTH.
    response = Client().generic(
        "POST",
        f"/api/sync/{path}",
        b'{"data": [{"_model": "shop.Customer", "name": "x"}]}',
        content_type="application/json",
        headers={"Authorization": f"Bearer {token_for(trio.alice)}", "Transfer-Encoding": "chunked"},
        CONTENT_LENGTH="",
    )

    assert response.status_code == 411
    assert response.json() == {
        "error": "length_required",
        "detail": "Send the body with a Content-Length header (chunked bodies are not read).",
    }
    assert SyncLog.objects.count() == 0
