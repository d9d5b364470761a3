"""The activity of a request refused before the engine runs: a push whose organization, envelope or
models are refused (400 ``validation_error`` / ``unknown_model``, 403, 413 ``too_many_records``), a
WatermelonDB push refused for its body, timestamp or size (400, 410, 413). Once the engine runs, the
engine records the request itself (sync/push/serve.py, sync/pull/serve.py, sync/watermelon/).

Only ProtocolErrors raised inside the block are logged, so only callers already authenticated: a 401 or a
429 is answered before any view runs and leaves no log (no user to name, and logging them would let
anyone flood the logs).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sbsync import discovery
from sbsync.enums import LogStatus, Operation
from sbsync.errors import ProtocolError
from sbsync.models import Organization
from sbsync.sync.activity import measured, record_activity

MAX_NAMED_MODELS = 20


@dataclass
class RefusableRequest:
    """What the caller has read of its request so far: its body once parsed (None until then, or when it
    could not be), its organization once resolved."""

    body: Any = None
    organization: Organization | None = None


@contextmanager
def refusals_logged(
    *,
    user: Any,
    operation: Operation,
    models_of: Callable[[Any], list[str]],
    records_of: Callable[[Any], int],
) -> Iterator[RefusableRequest]:
    """Run the block that reads a request; when it raises a ProtocolError, record the request's activity
    (a SyncLog with status ERROR, the error's code, detail and status, the models ``models_of(body)``
    names, the redacted body; a PerformanceMetrics sample with status ERROR and no records applied; a
    log-file line) and raise the error on. The block sets ``body`` and ``organization`` as it reads them.

    Side effects on refusal: two inserts in one commit, one log-file line.
    """
    request = RefusableRequest()
    with measured() as measurement:
        try:
            yield request
        except ProtocolError as exc:
            refused = exc
        else:
            return
    record_activity(  # the log and the metrics row together
        user=user,
        organization=request.organization,
        operation=operation,
        status=LogStatus.ERROR,
        models=models_of(request.body),
        object_count=records_of(request.body),
        success_count=0,
        error_count=1,
        errors=[{"error": refused.code, "detail": refused.detail, "status": refused.status}],
        request_data=request.body if isinstance(request.body, dict) else None,
        measurement=measurement,
    )
    raise refused


def _push_records(body: Any) -> list[Any]:
    records = body.get("data") if isinstance(body, dict) else None
    return records if isinstance(records, list) else []


def pushed_record_count(body: Any) -> int:
    """The records a push body holds (0 when it holds no list of them)."""
    return len(_push_records(body))


def pushed_models(body: Any) -> list[str]:
    """The models a push body's records name, in the order first named: a model of the project by its own
    label, any other label as sent (cut to 100 characters), so an ``unknown_model`` refusal is found by
    the label the client used. At most MAX_NAMED_MODELS."""
    sent = dict.fromkeys(
        record["_model"][:100]
        for record in _push_records(body)
        if isinstance(record, dict) and isinstance(record.get("_model"), str) and record["_model"]
    )
    named = []
    for label in sent:
        model = discovery.installed_model(label)
        named.append(model._meta.label if model is not None else label)
    return list(dict.fromkeys(named))[:MAX_NAMED_MODELS]
