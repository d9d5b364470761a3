"""The protocol's one error shape (PROTOCOL.md section 1): ``{"error": code, "detail": sentence,
"errors": {...}}``. A leaf module, so the engine's answers (push, jobs) and the API build it alike."""

from __future__ import annotations

from typing import Any


def error_body(code: str, detail: str, errors: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """The error body; ``errors`` only when there are some, ``extra`` keys (a push's results) after."""
    body: dict[str, Any] = {"error": code, "detail": detail}
    if errors:
        body["errors"] = errors
    body.update(extra)
    return body
