"""The protocol's one error shape (sbsync/docs/protocol.md section 1): ``{"error": code, "detail":
sentence, "errors": {...}}``, and ``ProtocolError``, the one exception that carries it.

A leaf module: the engine raises ``ProtocolError`` (its ``status`` is the protocol's, not a view's
choice), the API's exception handler answers it once, and an async job stores ``body()`` as its answer.
"""

from __future__ import annotations

from typing import Any


def error_body(code: str, detail: str, errors: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """The error body; ``errors`` only when there are some, ``extra`` keys (a push's results) after."""
    body: dict[str, Any] = {"error": code, "detail": detail}
    if errors:
        body["errors"] = errors
    body.update(extra)
    return body


class ProtocolError(Exception):
    """A request the protocol refuses: ``status`` (its HTTP status), ``code`` (the body's ``error``),
    ``detail`` (one sentence) and field-level ``errors``."""

    def __init__(self, status: int, code: str, detail: str, errors: dict[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.errors = errors

    def body(self) -> dict[str, Any]:
        return error_body(self.code, self.detail, self.errors)

    def __repr__(self) -> str:
        return f"ProtocolError({self.status}, {self.code!r}, {self.detail!r})"
