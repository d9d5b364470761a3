"""Property-based fuzzing of the API from its own OpenAPI document (schemathesis): whatever a client
sends that the document describes, the server never answers 5xx, and its answers have the documented
status codes, content type and shapes."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.api.conftest import token_for

OPERATIONS = [
    ("/api/sync/push/", "POST"),
    ("/api/sync/pull/", "POST"),
    ("/api/sync/models/", "GET"),
    ("/api/sync/jobs/{code}/", "GET"),
    ("/api/sync/health/", "GET"),
    ("/api/sync/performance/", "GET"),
    ("/api/sync/auth/token/", "POST"),
]
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_api_never_fails_and_answers_as_documented(
    transactional_db, live_server, trio, settings_, path, method
):
    operation = schemathesis.openapi.from_url(f"{live_server.url}/api/sync/schema/")[path][method]
    headers = {"Authorization": f"Bearer {token_for(trio.alice)}", "X-Sync-Organization": "acme"}

    @given(case=operation.as_strategy())
    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def call(case) -> None:
        case.call_and_validate(base_url=live_server.url, headers=headers, checks=CHECKS)

    call()


@pytest.fixture
def settings_(settings):
    """No throttling or login lockout while fuzzing: hundreds of requests a minute are the point."""
    settings.SBSYNC = {**settings.SBSYNC, "REQUEST_THROTTLE_RATE": None}
    settings.AXES_ENABLED = False
    return settings
