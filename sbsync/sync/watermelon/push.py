"""A WatermelonDB push: the client's ``changes`` applied by the push engine as one atomic push.

WatermelonDB's rules, on top of everything a push checks (permissions, row filters, validation,
tenancy, foreign keys, unique values):

* All or nothing: the records go to the engine as one atomic push; one refusal refuses the push, with
  every record's reason.
* A record changed on the server after ``lastPulledAt`` (updated, deleted, or moved out of the caller's
  view) aborts the push with 409 and the conflicting table/id pairs; WatermelonDB then pulls and pushes
  again. The check reads the change index against the positions stored in the client's checkpoint; the
  rows that pass are sent with their current ``_version``, so a change that lands between the check and
  the engine's row locks is a conflict too.
* ``created`` for a row that exists is applied as an update, ``updated`` for a row that does not exist
  creates it, ``deleted`` for a row that does not exist is ignored (the engine answers ``unchanged``).
* A table with empty lists is no write, whatever the role may do with it (WatermelonDB lists every table
  of the app's schema). ``_status`` and ``_changed`` are WatermelonDB's bookkeeping, never fields; columns
  the server owns (auto timestamps, read-only fields) and columns the server does not know are ignored:
  WatermelonDB sends whole records back, and the next pull brings the server's values.
* Ids are strings: converted to the primary key's type. A model whose primary key the database assigns
  (auto-increment) cannot get rows created by a WatermelonDB client, whose ids are chosen on the device.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

from sbsync import discovery
from sbsync.access import Access
from sbsync.enums import Action, LogStatus, Operation, RecordStatus
from sbsync.errors import ProtocolError, error_body
from sbsync.models import SyncRecord
from sbsync.sync.activity import measured, record_activity
from sbsync.sync.changes.index import pk_key, stamp_pending
from sbsync.sync.pull.cursor import decode_cursor
from sbsync.sync.push.envelope import parse_envelope
from sbsync.sync.push.serve import PushAnswer, serve_push
from sbsync.sync.watermelon import tables as watermelon_tables
from sbsync.sync.watermelon.tables import ColumnError, Table, protocol_value, table_for
from sbsync.sync.watermelon.timestamps import load_checkpoint, note_created

CREATED, UPDATED, DELETED = "created", "updated", "deleted"
KINDS = (CREATED, UPDATED, DELETED)
BOOKKEEPING = frozenset({"id", "_status", "_changed"})
MAX_ID_LENGTH = 255
FORBIDDEN_TABLE = "You may not push records of this table."
SERVER_KEYS = (
    "Rows of this table get their id from the database: a WatermelonDB client cannot create them "
    "(give the model a UUID primary key to create its rows offline)."
)


def _not_changes(detail: str, errors: dict[str, list[str]] | None = None) -> ProtocolError:
    """A body that is not a WatermelonDB ``changes`` object (400, nothing read)."""
    return ProtocolError(400, "validation_error", detail, errors)


@dataclass
class _Record:
    """One pushed raw record (or deleted id) and what it becomes for the engine."""

    table_name: str
    row_id: str
    kind: str
    table: Table | None
    raw: dict[str, Any] = field(default_factory=dict)  # as sent (created and updated records)
    engine: dict[str, Any] = field(default_factory=dict)  # the push engine's record
    pk: Any = None
    refusal: dict[str, Any] | None = None  # {"status": ..., "errors"|"detail": ...}

    def ref(self) -> dict[str, str]:
        return {"table": self.table_name, "id": self.row_id}


def changes_of(body: Any) -> tuple[dict[str, Any], Any]:
    """The ``changes`` object and the body's ``lastPulledAt`` (or None) of a push body:
    ``{"changes": {...}, "lastPulledAt": n}``, ``{"changes": {...}}``, or the changes object itself."""
    if not isinstance(body, dict):
        raise _not_changes(
            'Send a JSON object: {"changes": {<table>: {"created": [], "updated": [], "deleted": []}}}.'
        )
    if "changes" in body:
        unknown = sorted(set(body) - {"changes", "lastPulledAt"})
        if unknown:
            raise _not_changes(f"Unknown key {unknown[0][:100]!r} beside changes.")
        changes = body["changes"]
        if not isinstance(changes, dict):
            raise _not_changes("changes must be an object of tables.", {"changes": ["Give an object."]})
        return changes, body.get("lastPulledAt")
    return body, None


def _read(changes: dict[str, Any], tables: dict[str, Table]) -> list[_Record]:
    records: list[_Record] = []
    errors: dict[str, list[str]] = {}
    for name, lists in changes.items():
        where = f"changes.{str(name)[:100]}"
        if not isinstance(lists, dict) or set(lists) - set(KINDS):
            errors[where] = ['Give {"created": [...], "updated": [...], "deleted": [...]}.']
            continue
        for kind in KINDS:
            items = lists.get(kind, [])
            if not isinstance(items, list):
                errors[f"{where}.{kind}"] = ["Give a list."]
                continue
            for index, item in enumerate(items):
                raw = item.get("id") if kind != DELETED and isinstance(item, dict) else item
                if not isinstance(raw, str) or not raw or len(raw) > MAX_ID_LENGTH or "\x00" in raw:
                    errors[f"{where}.{kind}.{index}"] = [
                        "Give an id: a non-empty string of at most 255 characters."
                        if kind == DELETED
                        else "Give a record: an object with a string id."
                    ]
                    continue
                records.append(
                    _Record(str(name), raw, kind, tables.get(name), item if kind != DELETED else {})
                )
            if len(errors) >= 20:
                break
    if errors:
        first = next(iter(errors))
        raise _not_changes(f"{first}: {errors[first][0]}", errors)
    return records


def _translate(record: _Record) -> None:
    """Turn a raw record into an engine record, or set its refusal."""
    table = record.table
    if table is None:
        record.refusal = {"status": RecordStatus.FORBIDDEN.value, "detail": FORBIDDEN_TABLE}
        return
    model = table.model
    pk_field = model._meta.pk
    try:
        raw_pk: Any = record.row_id
        if isinstance(pk_field, models.IntegerField):
            if not (raw_pk.isascii() and raw_pk.isdigit()):
                raise ValidationError("not a number")
            raw_pk = int(raw_pk)
        record.pk = pk_field.to_python(raw_pk)
    except ValidationError:
        if record.kind != DELETED:
            detail = SERVER_KEYS if table.server_keys else "This id cannot be used."
            record.refusal = {"status": RecordStatus.REJECTED.value, "errors": {"id": [detail]}}
        return  # a deleted id that cannot name a row: nothing to delete
    engine: dict[str, Any] = {"_model": table.label, pk_field.name: raw_pk}
    if record.kind == DELETED:
        engine["_deleted"] = True
    else:
        columns = table.by_name()
        errors: dict[str, list[str]] = {}
        for key, value in record.raw.items():
            column = columns.get(key)
            if key in BOOKKEEPING or column is None or column.server_owned:
                continue
            try:
                engine[key] = protocol_value(column, value)
            except ColumnError as exc:
                errors[key] = [str(exc)]
        if errors:
            record.refusal = {"status": RecordStatus.REJECTED.value, "errors": errors}
    record.engine = engine


def _check_conflicts(access: Access, cursors: dict[str, str], records: list[_Record]) -> list[_Record]:
    """Records whose row changed after the client's checkpoint (or moved out of its view); the others
    that name a visible row get its current ``_version``. Queries per model: the change index, the view."""
    groups: dict[type[models.Model], list[_Record]] = defaultdict(list)
    for record in records:
        table = record.table
        # Only rows the client could have pulled and may push: the engine answers the others (forbidden,
        # or an unusable id), so a conflict never tells anything about rows the caller cannot see.
        if (
            table is not None
            and record.refusal is None
            and record.pk is not None
            and access.can(table.model, Action.PULL)
            and access.can(table.model, Action.PUSH)
        ):
            groups[table.model].append(record)
    for scope in {access.scope(model) for model in groups}:
        stamp_pending(scope)
    conflicts = []
    for model, group in groups.items():
        label = model._meta.label
        text = cursors.get(label)
        reached = decode_cursor(text, label).reached if text else 0
        keys = {pk_key(model, r.pk): r for r in group}
        index = {
            object_pk: (seq, version, deleted)
            for object_pk, seq, version, deleted in SyncRecord.objects.filter(
                scope=access.scope(model), model_label=label, object_pk__in=list(keys)
            ).values_list("object_pk", "seq", "version", "deleted")
        }
        visible = {
            pk_key(model, pk)
            for pk in access.rows(model).filter(pk__in=[r.pk for r in group]).values_list("pk", flat=True)
        }
        for key, record in keys.items():
            if key not in index:
                continue
            seq, version, deleted = index[key]
            if (seq is None or seq > reached) and (key in visible or deleted):
                conflicts.append(record)
            elif key in visible:
                record.engine["_version"] = version
    return conflicts


def push_changes(*, access: Access, last_pulled_at: int, body: Any) -> PushAnswer:
    """Apply a WatermelonDB push for the caller.

    Raises ProtocolError: 400 for a body that is not a changes object, 410 for an unknown or expired
    ``last_pulled_at``, 413 past MAX_PUSH_RECORDS records. Side effects: those of ``serve_push`` (rows, history, change index, SyncLog); a refused push writes nothing but its SyncLog;
    rows created are noted on the checkpoint (timestamps.note_created).
    """
    changes, _ = changes_of(body)
    tables = {table.name: table for table in map(table_for, (s.model for s in access.enabled.values()))}
    records = _read(changes, tables)
    checkpoint = load_checkpoint(access, last_pulled_at)
    with measured() as measurement:
        for record in records:
            _translate(record)
        wanted = [r for r in records if r.refusal is not None or r.pk is not None]
        refused = [r for r in wanted if r.refusal is not None]
        conflicts = [] if refused else _check_conflicts(access, checkpoint.cursors, wanted)
    if refused or conflicts:
        answer = _refusal(refused, conflicts)
        _log_refusal(access, answer, wanted, measurement)
        return answer
    if not wanted:
        return PushAnswer(200, {"status": "success", "applied": 0})
    envelope = parse_envelope({"data": [r.engine for r in wanted], "atomic": True})
    engine_answer = serve_push(access=access, envelope=envelope)
    results = engine_answer.body.get("results", [])
    failed = [(wanted[r["index"]], r) for r in results if r["status"] not in _SUCCESS]
    if engine_answer.status_code != 200 or failed:
        return _engine_refusal(failed, engine_answer.body)
    created: dict[str, list[str]] = defaultdict(list)
    for result in results:
        record = wanted[result["index"]]
        if result["status"] == RecordStatus.CREATED and record.table is not None:
            created[record.table.label].append(pk_key(record.table.model, record.pk))
    if created:
        note_created(checkpoint.pk, dict(created))
    counts: dict[str, int] = defaultdict(int)
    for result in results:
        counts[result["status"]] += 1
    return PushAnswer(
        200,
        {
            "status": "success",
            "applied": len(results),
            "counts": dict(counts),
            "sync_id": engine_answer.body.get("sync_id"),
        },
    )


_SUCCESS = frozenset(
    {RecordStatus.CREATED, RecordStatus.UPDATED, RecordStatus.DELETED, RecordStatus.UNCHANGED}
)


def _conflict_answer(conflicts: list[dict[str, str]]) -> PushAnswer:
    return PushAnswer(
        409,
        error_body(
            "conflict",
            f"{len(conflicts)} record(s) changed on the server after last_pulled_at, so nothing was written: "
            "pull, then push again.",
            conflicts=conflicts,
        ),
    )


def _refusal(refused: list[_Record], conflicts: list[_Record]) -> PushAnswer:
    if conflicts and not refused:
        return _conflict_answer([r.ref() for r in conflicts])
    rejected = [{**r.ref(), **(r.refusal or {})} for r in refused]
    return _refusal_answer(rejected)


def _refusal_answer(rejected: list[dict[str, Any]]) -> PushAnswer:
    forbidden = any(r["status"] == RecordStatus.FORBIDDEN for r in rejected)
    errors: dict[str, list[str]] = {}
    for r in rejected[:100]:
        where = f"{r['table']}.{r['id']}"
        if "errors" in r:
            errors.update({f"{where}.{name}": messages for name, messages in r["errors"].items()})
        else:
            errors[where] = [r.get("detail", "")]
    return PushAnswer(
        403 if forbidden else 400,
        error_body(
            "forbidden" if forbidden else "validation_error",
            f"{len(rejected)} record(s) could not be applied, so nothing was written: see rejected.",
            errors,
            rejected=rejected,
        ),
    )


def _engine_refusal(failed: list[tuple[_Record, dict[str, Any]]], body: dict[str, Any]) -> PushAnswer:
    conflicts = [record.ref() for record, result in failed if result["status"] == RecordStatus.CONFLICT]
    if conflicts:
        return _conflict_answer(conflicts)
    rejected = [
        {**record.ref(), **{k: v for k, v in result.items() if k in ("status", "errors", "detail")}}
        for record, result in failed
    ]
    if not rejected:  # refused as a whole before any record (an idempotency or envelope answer)
        return PushAnswer(400, body)
    return _refusal_answer(rejected)


def _log_refusal(access: Access, answer: PushAnswer, records: list[_Record], measurement: Any) -> None:
    """The SyncLog of a push refused before the engine ran (conflicts, unreadable values)."""
    record_activity(
        user=access.user,
        organization=access.organization,
        operation=Operation.PUSH,
        status=LogStatus.ERROR,
        models=_models_named(records),
        object_count=len(records),
        success_count=0,
        error_count=len(answer.body.get("conflicts", answer.body.get("rejected", []))),
        errors=answer.body.get("conflicts", answer.body.get("rejected", []))[:100],
        request_data={"watermelon": {r.table_name: r.kind for r in records[:20]}},
        measurement=measurement,
    )


def _models_named(records: list[_Record]) -> list[str]:
    """The labels of the models the records' tables name, whether the caller may push them or not (a
    forbidden table is still a model of the project), so the log of a refused push names them."""
    by_table = {
        watermelon_tables.table_name(model): model._meta.label for model in discovery.candidate_models()
    }
    return sorted({by_table[r.table_name] for r in records if r.table_name in by_table})
