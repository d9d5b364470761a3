from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from knox.models import AuthToken


class ApiClient:
    """A test client speaking the protocol: JSON bodies, Bearer token, optional organization header."""

    def __init__(self, token: str | None = None, organization: str | None = None) -> None:
        self.client = Client()
        self.token = token
        self.organization = organization

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.organization:
            headers["X-Sync-Organization"] = self.organization
        return {**headers, **(extra or {})}

    def post(self, path: str, body: Any = None, headers: dict[str, str] | None = None, **kwargs: Any):
        return self.client.post(
            f"/api/sync/{path}",
            body,
            content_type="application/json",
            headers=self.headers(headers),
            **kwargs,
        )

    def get(self, path: str, headers: dict[str, str] | None = None, **kwargs: Any):
        return self.client.get(f"/api/sync/{path}", headers=self.headers(headers), **kwargs)


def token_for(user) -> str:
    return AuthToken.objects.create(user=user)[1]


@pytest.fixture
def api():
    """``api(user, organization=None)``: an ApiClient holding a fresh token of ``user``."""

    def make(user=None, organization: str | None = None) -> ApiClient:
        return ApiClient(token_for(user) if user is not None else None, organization)

    return make
