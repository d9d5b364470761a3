"""The envelope of a pull (sbsync/docs/protocol.md section 5): everything checked before any change is
read. A bad envelope fails the whole request (400, or 403 when the role may not pull a model named)."""

from __future__ import annotations

from typing import Any

from django.db import models

from sbsync import conf
from sbsync.access import Access
from sbsync.enums import Action
from sbsync.errors import ProtocolError

KEYS = frozenset({"models", "batch_size", "organization"})
MAX_LABEL_ECHO = 100
MAX_REPORTED_ERRORS = 20


def _label(value: str) -> str:
    return value[:MAX_LABEL_ECHO]


def _batch_size(body: dict[str, Any]) -> int:
    limit = conf.get("MAX_PULL_BATCH")
    value = body.get("batch_size", conf.get("DEFAULT_PULL_BATCH"))
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= limit:
        message = f"batch_size must be a whole number between 1 and {limit}."
        raise ProtocolError(400, "validation_error", message, {"batch_size": [message]})
    return value


def parse_pull_request(body: Any, access: Access) -> tuple[dict[type[models.Model], str | None], int]:
    """The models to pull (in request order) with their raw start values, and the batch size.
    400 for a malformed envelope or an unknown model, 403 when the role may not pull one of them."""
    if not isinstance(body, dict):
        raise ProtocolError(
            400, "validation_error", 'Send a JSON object: {"models": {"app.Model": null}, "batch_size": 100}.'
        )
    unknown = sorted(set(body) - KEYS)
    if unknown:
        raise ProtocolError(
            400,
            "validation_error",
            f"Unknown field {_label(unknown[0])!r} in the pull request.",
            {_label(key): ["Unknown field."] for key in unknown[:MAX_REPORTED_ERRORS]},
        )
    requested = body.get("models")
    if not isinstance(requested, dict) or not requested:
        message = "models must be a non-empty object mapping model labels to null, a timestamp or a cursor."
        raise ProtocolError(400, "validation_error", message, {"models": [message]})
    batch_size = _batch_size(body)
    chosen: dict[type[models.Model], str | None] = {}
    missing, forbidden = [], []
    for label, start in requested.items():
        model = access.model(label)
        if model is None:
            missing.append(_label(label))
            continue
        if model in chosen:
            message = f"{model._meta.label} is named twice."
            raise ProtocolError(400, "validation_error", message, {f"models.{model._meta.label}": [message]})
        if not access.can(model, Action.PULL):
            forbidden.append(model._meta.label)
        if start is not None and not isinstance(start, str):
            message = (
                f"The start of {model._meta.label} must be null, an ISO-8601 timestamp or a cursor string."
            )
            raise ProtocolError(400, "validation_error", message, {f"models.{model._meta.label}": [message]})
        chosen[model] = start
    if missing:
        message = "Unknown model, or not enabled for sync"
        raise ProtocolError(
            400,
            "unknown_model",
            f"{message}: {', '.join(missing[:5])}.",
            {f"models.{m}": [message + "."] for m in missing[:MAX_REPORTED_ERRORS]},
        )
    if forbidden:
        message = "Your role may not pull this model"
        raise ProtocolError(
            403,
            "forbidden",
            f"{message}: {', '.join(forbidden)}.",
            {f"models.{m}": [message + "."] for m in forbidden},
        )
    return chosen, batch_size


def requested_labels(body: Any) -> list[str]:
    """The model labels a body names (at most 20, each cut to 100 characters), for the log of a pull
    refused before its models were known."""
    requested = body.get("models") if isinstance(body, dict) else None
    return [_label(str(label)) for label in list(requested)[:20]] if isinstance(requested, dict) else []
