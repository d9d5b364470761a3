"""A pull request as a whole, for the API view: the organization, the envelope, the page, and the
activity records. The mirror of push's serve.py.

Every pull that got past authentication leaves a SyncLog and a PerformanceMetrics row, refused ones
included (status ERROR with the error), so staff can see a client stuck on a 400, a 403 or a 410.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sbsync.access import Access, build_access
from sbsync.enums import LogStatus, Operation
from sbsync.errors import ProtocolError
from sbsync.sync.activity import measured, record_activity
from sbsync.sync.pull.envelope import parse_pull_request, requested_labels
from sbsync.sync.pull.page import PullPage, pull_synced, read_pull_page
from sbsync.tenancy import requested_slug, resolve_membership


@dataclass
class _Request:
    """What is known of a pull as it is served: its models' labels, then its organization."""

    labels: list[str]
    access: Access | None = None


def serve_pull(*, user: Any, organization: str | None, body: Any) -> dict[str, Any]:
    """Serve one pull of ``user``: ``organization`` is the slug the request's header names (None when
    absent), ``body`` the parsed JSON body. Returns the page as the protocol's answer.

    In order: the organization (400/403, as for a push), the envelope (400/403), the page (400 for a
    bad start position, 410 for an expired one): each refusal is a ProtocolError, raised once the
    activity is recorded. Side effects: those of ``read_pull_page``; the sync metadata, a SyncLog and a
    PerformanceMetrics row written together (``record_activity``: one statement on PostgreSQL), and a
    log-file line.
    """
    request = _Request(labels=requested_labels(body))
    with measured() as measurement:
        outcome = _serve(user, organization, body, request)
        if isinstance(outcome, ProtocolError):
            errors, total = [_logged(outcome)], 0
        else:
            errors, total = [], outcome.total_records
        synced = (
            pull_synced(request.access, outcome)
            if isinstance(outcome, PullPage) and request.access is not None
            else None
        )
        measurement.stop()
        # The sync metadata, the log and the metrics row together (one statement on PostgreSQL).
        record_activity(
            user=user,
            organization=request.access.organization if request.access is not None else None,
            operation=Operation.PULL,
            status=LogStatus.ERROR if errors else LogStatus.SUCCESS,
            models=request.labels,
            object_count=total,
            success_count=total,
            error_count=len(errors),
            errors=errors,
            request_data=body if isinstance(body, dict) else None,
            measurement=measurement,
            synced=synced,
        )
        if synced is not None and isinstance(outcome, PullPage):
            outcome.synced(synced)
    if isinstance(outcome, ProtocolError):
        raise outcome
    return outcome.as_dict()


def _serve(user: Any, organization: str | None, body: Any, request: _Request) -> PullPage | ProtocolError:
    try:
        request.access = build_access(resolve_membership(user, requested_slug(organization, body)))
        requests, batch_size = parse_pull_request(body, request.access)
        request.labels = [model._meta.label for model in requests]
        return read_pull_page(access=request.access, requests=requests, batch_size=batch_size)
    except ProtocolError as exc:
        return exc


def _logged(error: ProtocolError) -> dict[str, Any]:
    return {"error": error.code, "detail": error.detail, "status": error.status}
