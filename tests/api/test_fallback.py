"""Every answer under the API prefix is JSON in the protocol's error shape, whatever the path and method."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.api.conftest import token_for


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "GET"])
def test_unknown_path_is_json_404_for_every_method_with_csrf_checks_on(db, method):
    response = Client(enforce_csrf_checks=True).generic(
        method, "/api/sync/no-such-endpoint/", "{}", content_type="application/json"
    )

    assert response.status_code == 404
    assert response.json() == {
        "error": "not_found",
        "detail": "No API endpoint at /api/sync/no-such-endpoint/.",
    }


@pytest.mark.parametrize("endpoint", ["push", "pull", "auth/token", "auth/logout"])
def test_endpoint_without_its_trailing_slash_is_json_404_naming_the_endpoint(db, endpoint):
    response = Client(enforce_csrf_checks=True).post(
        f"/api/sync/{endpoint}", {"data": []}, content_type="application/json"
    )

    assert response.status_code == 404
    assert response.json() == {
        "error": "not_found",
        "detail": (
            f"No API endpoint at /api/sync/{endpoint}. The endpoint is /api/sync/{endpoint}/ "
            "(paths end with a slash)."
        ),
    }


@pytest.mark.parametrize("path", ["schema/", "docs/"])
@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_documentation_views_answer_other_methods_with_json_405(db, path, method):
    response = Client(enforce_csrf_checks=True).generic(method, f"/api/sync/{path}", "{}")

    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert response.json() == {"error": "method_not_allowed", "detail": f'Method "{method}" not allowed.'}


def test_wrong_method_on_an_endpoint_is_json_405(trio):
    token = token_for(trio.bob)

    response = Client(enforce_csrf_checks=True).put(
        "/api/sync/push/", "{}", content_type="application/json", headers={"Authorization": f"Bearer {token}"}
    )

    assert response.status_code == 405
    assert response.json() == {"error": "method_not_allowed", "detail": 'Method "PUT" not allowed.'}
