"""WatermelonDB requests as a whole, for the API views: the organization, the query parameters, the pull
or push, and the activity records (the mirror of sync/pull/serve.py and sync/push/serve.py).

The organization is resolved first, as for every sbsync request (protocol.md section 3), from the
``X-Sync-Organization`` header only: WatermelonDB's bodies have no room for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sbsync import conf, discovery
from sbsync.access import Access, build_access
from sbsync.enums import LogStatus, Operation
from sbsync.errors import ProtocolError
from sbsync.sync.activity import measured, record_activity
from sbsync.sync.push.serve import PushAnswer
from sbsync.sync.refusals import MAX_NAMED_MODELS, refusals_logged
from sbsync.sync.watermelon.pull import WatermelonPull, parse_migration, pull_changes
from sbsync.sync.watermelon.push import changes_of, push_changes
from sbsync.sync.watermelon.tables import describe_table, pullable_tables, table_name
from sbsync.sync.watermelon.timestamps import parse_timestamp
from sbsync.tenancy import resolve_membership


def _invalid(name: str, detail: str) -> ProtocolError:
    return ProtocolError(400, "validation_error", detail, {name: [detail]})


def _schema_version(params: Mapping[str, str]) -> None:
    """Checked and otherwise unused: the server sends every column it has (docs/watermelon.md)."""
    text = params.get("schema_version")
    if text is not None and text != "null" and not (text.isascii() and text.isdigit() and len(text) < 10):
        raise _invalid("schema_version", "schema_version must be the local schema version, a whole number.")


def _max_records(params: Mapping[str, str]) -> int | None:
    text = params.get("max_records")
    if text is None:
        return None
    limit = conf.get("WATERMELON_MAX_PULL_RECORDS")
    if not (text.isascii() and text.isdigit() and 1 <= int(text) <= limit):
        raise _invalid(
            "max_records",
            f"max_records must be a whole number between 1 and WATERMELON_MAX_PULL_RECORDS ({limit}).",
        )
    return int(text)


def _access(user: Any, organization: str | None) -> Access:
    return build_access(resolve_membership(user, organization))


def serve_watermelon_pull(
    *, user: Any, organization: str | None, params: Mapping[str, str]
) -> dict[str, Any]:
    """Serve one WatermelonDB pull of ``user``: ``organization`` is the header's slug (None when absent),
    ``params`` the query parameters. Returns ``{"changes", "timestamp", ...}``.

    Refusals are ProtocolErrors (400, 403, 410, 413), raised once the activity is recorded. Side effects:
    those of ``pull_changes``; a SyncLog, a PerformanceMetrics row and a log-file line, in one commit.
    """
    access: Access | None = None
    outcome: WatermelonPull | ProtocolError
    with measured() as measurement:
        try:
            access = _access(user, organization)
            last_pulled_at = parse_timestamp(params.get("last_pulled_at"))
            _schema_version(params)
            outcome = pull_changes(
                access=access,
                last_pulled_at=last_pulled_at,
                migration=parse_migration(params.get("migration")),
                max_records=_max_records(params),
            )
        except ProtocolError as exc:
            outcome = exc
    failed = isinstance(outcome, ProtocolError)
    total = 0 if isinstance(outcome, ProtocolError) else outcome.records
    record_activity(  # the log and the metrics row together
        user=user,
        organization=access.organization if access is not None else None,
        operation=Operation.PULL,
        status=LogStatus.ERROR if failed else LogStatus.SUCCESS,
        models=_refused_models(access) if isinstance(outcome, ProtocolError) else outcome.labels,
        object_count=total,
        success_count=total,
        error_count=1 if failed else 0,
        errors=[{"error": outcome.code, "detail": outcome.detail, "status": outcome.status}]
        if isinstance(outcome, ProtocolError)
        else [],
        request_data={"watermelon": dict(params.items())},
        measurement=measurement,
    )
    if isinstance(outcome, ProtocolError):
        raise outcome
    return outcome.as_dict()


def _refused_models(access: Access | None) -> list[str]:
    """The models a refused WatermelonDB pull asked for: a pull asks for every table the caller may pull,
    so its log names them (and the logs page's model filter finds it); none when the caller is unknown."""
    return [table.label for table in pullable_tables(access).values()] if access is not None else []


def serve_watermelon_push(
    *, user: Any, organization: str | None, params: Mapping[str, str], body: Any
) -> PushAnswer:
    """Serve one WatermelonDB push of ``user``: ``last_pulled_at`` from the query or the body's
    ``lastPulledAt`` (they must agree). Raises ProtocolError for a refused request (400, 403, 410, 413);
    answers refused records (400, 403) and conflicts (409) with their lists. Side effects: those of
    ``push_changes``; a push refused before it (organization, body, timestamp, size) leaves its SyncLog
    and PerformanceMetrics row through ``refusals_logged``."""
    with refusals_logged(
        user=user, operation=Operation.PUSH, models_of=_pushed_models, records_of=_pushed_count
    ) as request:
        request.body = _refusal_summary(params, body)
        access = _access(user, organization)
        request.organization = access.organization
        _, body_last_pulled_at = changes_of(body)
        last_pulled_at = parse_timestamp(params.get("last_pulled_at"))
        if body_last_pulled_at is not None and body_last_pulled_at != last_pulled_at:
            if last_pulled_at is not None or not isinstance(body_last_pulled_at, int):
                raise _invalid(
                    "lastPulledAt",
                    "lastPulledAt in the body and last_pulled_at in the query differ: send one, or the same.",
                )
            last_pulled_at = parse_timestamp(str(body_last_pulled_at))
        if last_pulled_at is None:
            raise _invalid(
                "last_pulled_at", "A push needs last_pulled_at, the timestamp of the pull before it."
            )
        # push_changes raises only before its work starts; once it runs, it records its own activity.
        return push_changes(access=access, last_pulled_at=last_pulled_at, body=body)


KINDS = ("created", "updated", "deleted")
MAX_LOGGED_TABLES = 100


def _refusal_summary(params: Mapping[str, str], body: Any) -> dict[str, Any]:
    """What the log of a refused WatermelonDB push keeps of it: the query and, per table that holds
    records, the number of records of each kind (never their values: a refused body may be anything up to
    MAX_BODY_BYTES, secrets included)."""
    changes = body.get("changes", body) if isinstance(body, dict) else None
    tables = list(changes.items())[:MAX_LOGGED_TABLES] if isinstance(changes, dict) else []
    counts = {
        str(name)[:100]: {kind: len(lists[kind]) for kind in KINDS if isinstance(lists.get(kind), list)}
        for name, lists in tables
        if isinstance(lists, dict)
    }
    return {
        "watermelon": dict(params.items()),
        "changes": {name: kinds for name, kinds in counts.items() if any(kinds.values())},
    }


def _pushed_models(summary: dict[str, Any]) -> list[str]:
    """The models a refused WatermelonDB push names: each table holding records by its model's label, a
    table that is no model's by its name as sent."""
    labels = {table_name(model): model._meta.label for model in discovery.candidate_models()}
    return [labels.get(name, name) for name in list(summary["changes"])[:MAX_NAMED_MODELS]]


def _pushed_count(summary: dict[str, Any]) -> int:
    """The records (created, updated and deleted ids) a WatermelonDB push body holds."""
    return sum(sum(kinds.values()) for kinds in summary["changes"].values())


def watermelon_schema(*, user: Any, organization: str | None) -> dict[str, Any]:
    """The caller's tables as WatermelonDB's ``tableSchema()`` takes them (docs/watermelon.md)."""
    access = _access(user, organization)
    return {"tables": [describe_table(table, access) for table in pullable_tables(access).values()]}
