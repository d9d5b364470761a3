"""HTTP to an sbsync server: JSON requests with retries (exponential backoff with full jitter on
connection errors, timeouts, 5xx and 429, honouring ``Retry-After``) and a token that is renewed by logging
in again when it expires and credentials were given."""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from sbsync.client.errors import AuthenticationError, NetworkError, ProtocolError

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """``attempts`` tries in all; the n-th wait is uniform in ``[0, min(cap, base * 2**n)]`` (full jitter),
    or the server's ``Retry-After`` when it sent one (at most ``cap``)."""

    attempts: int = 8
    base: float = 0.5
    cap: float = 30.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return min(self.cap, max(0.0, retry_after))
        return random.uniform(0, min(self.cap, self.base * 2**attempt))  # noqa: S311 (jitter, not secrecy)


def retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` as seconds: a number of seconds or an HTTP date."""
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return when.timestamp() - time.time()


@dataclass
class Answer:
    status: int
    body: dict[str, Any]


class Transport:
    """One server, one user, one organization. ``token`` is reused while it works; ``on_token`` is called
    with each new token so the replica can keep it across runs."""

    def __init__(
        self,
        url: str,
        *,
        username: str | None = None,
        password: str | None = None,
        token: str | None = None,
        organization: str | None = None,
        retry: RetryPolicy | None = None,
        timeout: float = 60.0,
        on_token: Callable[[str], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.url = url.rstrip("/") + "/"
        self.username = username
        self.password = password
        self.token = token
        self.organization = organization
        self.retry = retry or RetryPolicy()
        self.on_token = on_token
        self.sleep = sleep
        self.http = httpx.Client(timeout=timeout, headers={"Accept": "application/json"})

    def close(self) -> None:
        self.http.close()

    def login(self) -> dict[str, Any]:
        """``POST auth/token/``; keeps the token. Refused credentials raise AuthenticationError."""
        if not (self.username and self.password):
            raise AuthenticationError(
                "No valid token, and no username and password to log in with: give them (or a new token)."
            )
        answer = self._send(
            "POST", "auth/token/", {"username": self.username, "password": self.password}, auth=False
        )
        if answer.status != 200:
            raise AuthenticationError(
                _detail(answer, "The server refused the login"), status=answer.status, body=answer.body
            )
        token = answer.body.get("token")
        if not isinstance(token, str):
            raise ProtocolError(
                "auth/token/ answered without a token.", status=answer.status, body=answer.body
            )
        self.token = token
        if self.on_token:
            self.on_token(token)
        return answer.body

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Answer:
        """Send with the token (logging in first when there is none), retrying transient failures. A 401 logs
        in again once when credentials were given; otherwise it raises AuthenticationError. Other statuses
        are returned for the caller to read."""
        if self.token is None:
            self.login()
        answer = self._send(method, path, body, auth=True)
        if answer.status == 401:
            if not (self.username and self.password):
                raise AuthenticationError(
                    _detail(answer, "The token was refused")
                    + " Log in again (give a username and password).",
                    status=401,
                    body=answer.body,
                )
            self.login()
            answer = self._send(method, path, body, auth=True)
            if answer.status == 401:
                raise AuthenticationError(
                    _detail(answer, "The new token was refused"), status=401, body=answer.body
                )
        return answer

    def _send(self, method: str, path: str, body: dict[str, Any] | None, *, auth: bool) -> Answer:
        headers = {}
        if auth and self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if auth and self.organization:
            headers["X-Sync-Organization"] = self.organization
        failure = ""
        for attempt in range(self.retry.attempts):
            retry_after = None
            try:
                response = self.http.request(method, self.url + path, json=body, headers=headers)
            except httpx.TransportError as exc:  # connection refused or cut, timeouts, protocol errors
                failure = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            else:
                if response.status_code not in RETRY_STATUSES:
                    return Answer(response.status_code, _json(response))
                failure = f"HTTP {response.status_code}"
                retry_after = retry_after_seconds(response.headers.get("Retry-After"))
            if attempt + 1 < self.retry.attempts:
                self.sleep(self.retry.delay(attempt, retry_after))
        raise NetworkError(f"{method} {self.url}{path} failed {self.retry.attempts} times; last: {failure}.")


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        raise ProtocolError(
            f"{response.request.method} {response.request.url} answered {response.status_code} without JSON.",
            status=response.status_code,
        ) from None
    if not isinstance(body, dict):
        raise ProtocolError(
            f"{response.request.url} answered JSON that is not an object.", status=response.status_code
        )
    return body


def _detail(answer: Answer, default: str) -> str:
    detail = answer.body.get("detail")
    return (
        f"{default} ({answer.status}): {detail}"
        if isinstance(detail, str)
        else f"{default} ({answer.status})."
    )
