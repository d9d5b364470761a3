"""A WatermelonDB pull: every change after ``lastPulledAt`` in one answer, served by the pull engine.

WatermelonDB asks once and applies the whole answer in one local transaction, so the engine's pages are
read to the end here (usually one page: the whole budget is asked for at once) and folded into one
``changes`` object, each row once in its latest state. The cursors reached are stored in a checkpoint
whose id is the returned ``timestamp`` (timestamps.py), so every guarantee of an sbsync pull holds: no
row skipped on timestamp ties or late commits, deletes and rows that left the view sent as deleted ids,
a view change (group, data filters) rescanned.

Created or updated: a table the client has never pulled (first sync, a table new to the checkpoint, a
table named by ``migration.tables``) arrives as ``created``. Otherwise a row whose change-index entry is
its first (version 1) was created after the client's last pull and arrives as ``created`` too, unless a
push of this client created it; everything else, and every row of a rescan, arrives as ``updated``
(WatermelonDB creates an ``updated`` row it does not hold).

Size: an answer holds at most WATERMELON_MAX_PULL_RECORDS records; past that the pull is refused with an
error naming the setting, and nothing is stored. A client may instead ask for parts (``max_records``):
each answer then stops at that many records, in change order, says ``has_more``, and its timestamp
continues where it stopped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import models

from sbsync import conf
from sbsync.access import Access
from sbsync.errors import ProtocolError
from sbsync.sync.changes.index import pk_key
from sbsync.sync.pull.cursor import decode_cursor
from sbsync.sync.pull.page import build_pull_page
from sbsync.sync.records import output_fields
from sbsync.sync.watermelon.tables import Table, pullable_tables, raw_record, table_name
from sbsync.sync.watermelon.timestamps import issue_checkpoint, load_checkpoint

CREATED, UPDATED, DELETED = "created", "updated", "deleted"
MAX_MIGRATION_NAMES = 1000


def too_many_changes(limit: int) -> ProtocolError:
    return ProtocolError(
        413,
        "too_many_changes",
        f"This pull holds more than WATERMELON_MAX_PULL_RECORDS ({limit}) records: pull in parts "
        "(max_records), sync the first time with unsafeTurbo, or ask the server's operator to raise the "
        "limit.",
    )


def _bad_migration(detail: str) -> ProtocolError:
    return ProtocolError(400, "validation_error", detail, {"migration": [detail]})


@dataclass(frozen=True)
class Migration:
    """What WatermelonDB's ``migration`` names: tables added to the local database since its last sync
    (they need all their rows) and tables that gained columns (they need their rows again)."""

    tables: frozenset[str] = frozenset()
    columns: frozenset[str] = frozenset()


def parse_migration(text: str | None) -> Migration | None:
    """The ``migration`` query parameter: absent or ``null``, or WatermelonDB's
    ``{"from": int, "tables": [names], "columns": [{"table": name, "columns": [names]}]}``."""
    if text is None or text in ("", "null"):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        raise _bad_migration("migration must be null or JSON.") from None
    if value is None:
        return None
    tables, columns = (value.get("tables"), value.get("columns")) if isinstance(value, dict) else (None, None)
    shape_ok = (
        isinstance(value, dict)
        and isinstance(value.get("from"), int)
        and isinstance(tables, list)
        and all(isinstance(t, str) for t in tables)
        and isinstance(columns, list)
        and all(
            isinstance(c, dict)
            and isinstance(c.get("table"), str)
            and isinstance(c.get("columns"), list)
            and all(isinstance(n, str) for n in c["columns"])
            for c in columns
        )
    )
    if not shape_ok:
        raise _bad_migration(
            'migration must be {"from": <version>, "tables": [<table>...], '
            '"columns": [{"table": <table>, "columns": [<column>...]}...]}.'
        )
    assert isinstance(tables, list) and isinstance(columns, list)
    if len(tables) + len(columns) > MAX_MIGRATION_NAMES:
        raise _bad_migration(f"migration names more than {MAX_MIGRATION_NAMES} tables.")
    return Migration(tables=frozenset(tables), columns=frozenset(c["table"] for c in columns if c["columns"]))


@dataclass
class _Changes:
    """The changes of one table: each row once, in its latest state."""

    rows: dict[str, tuple[str, dict[str, Any] | None]] = field(default_factory=dict)

    def put(self, row_id: str, kind: str, record: dict[str, Any] | None) -> None:
        earlier = self.rows.get(row_id)
        if earlier is not None and earlier[0] == CREATED and kind == UPDATED:
            kind = CREATED  # the client still does not hold it
        self.rows[row_id] = (kind, record)

    def drop_deleted(self) -> None:
        self.rows = {row_id: change for row_id, change in self.rows.items() if change[0] != DELETED}

    def as_dict(self) -> dict[str, list[Any]]:
        result: dict[str, list[Any]] = {CREATED: [], UPDATED: [], DELETED: []}
        for row_id, (kind, record) in self.rows.items():
            result[kind].append(row_id if kind == DELETED else record)
        return result


@dataclass
class WatermelonPull:
    changes: dict[str, dict[str, list[Any]]]
    timestamp: int
    dropped: list[str]  # tables the caller may no longer pull: the client must empty them
    replaced: list[str]  # tables rescanned whole in this answer: the client keeps only the rows sent
    records: int
    labels: list[str]  # the models pulled
    has_more: bool | None = None  # for a pull in parts (max_records): whether more is waiting

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"changes": self.changes, "timestamp": self.timestamp}
        if self.has_more is not None:
            body["has_more"] = self.has_more
        if self.dropped or self.replaced:
            # WatermelonDB's replacement strategy: the client keeps only the rows sent (and its unpushed
            # creations), so a dropped table is emptied and a rescanned one needs no deleted ids.
            body["experimentalStrategy"] = {
                "default": "incremental",
                "override": dict.fromkeys(sorted(self.dropped + self.replaced), "replacement"),
            }
        return body


def pull_changes(
    *,
    access: Access,
    last_pulled_at: int | None,
    migration: Migration | None,
    max_records: int | None = None,
) -> WatermelonPull:
    """Serve a WatermelonDB pull for the caller: everything, or with ``max_records`` a part of at most
    that many records (``has_more`` tells whether the client should sync again).

    Raises ProtocolError: 410 for an unknown or expired ``last_pulled_at`` or a position past the
    tombstone horizon, 413 ``too_many_changes``. Side effects: those of
    ``build_pull_page`` (backfill, stamping, sync metadata); stores the new checkpoint and deletes the
    one the client's previous checkpoint started from.
    """
    migration = migration or Migration()
    checkpoint = load_checkpoint(access, last_pulled_at) if last_pulled_at is not None else None
    stored: dict[str, str] = checkpoint.cursors if checkpoint else {}
    pushed: dict[str, list[str]] = checkpoint.created if checkpoint else {}
    tables = pullable_tables(access)
    by_label = {table.label: table for table in tables.values()}
    starts: dict[type[models.Model], str | None] = {}
    kinds: dict[str, str] = {}  # model label → created (never pulled), updated (rescan) or "" (incremental)
    for name, table in tables.items():
        start = None if name in migration.tables else stored.get(table.label)
        starts[table.model] = start
        if start is None:
            kinds[table.label] = CREATED
        else:
            cursor = decode_cursor(start, table.label)
            if cursor.fingerprint != access.fingerprint(table.model):
                kinds[table.label] = UPDATED  # a rescan: the client may hold any of the rows
            elif checkpoint is not None and table.label in checkpoint.unfinished:
                kinds[table.label] = CREATED  # a first sync in parts, still going
            else:
                kinds[table.label] = ""

    limit = conf.get("WATERMELON_MAX_PULL_RECORDS")
    cap = limit if max_records is None else min(max_records, limit)
    collected = {name: _Changes() for name in tables}
    cursors: dict[str, str] = {}
    requests = starts
    while requests:
        held = sum(len(c.rows) for c in collected.values())
        if max_records is not None and held >= cap:
            break  # a part: the rest comes with the next pull
        budget = cap - held if max_records is not None else cap + 1 - held
        page = build_pull_page(access=access, requests=requests, batch_size=budget)
        for record in page.data:
            table = by_label[record["_model"]]
            row_id, values = _values(table, record)
            kind = kinds[table.label] or (
                CREATED if record["_version"] == 1 and row_id not in pushed.get(table.label, ()) else UPDATED
            )
            collected[table.name].put(row_id, kind, raw_record(table, row_id, values))
        for record in page.deleted:
            table = by_label[record["_model"]]
            pk = table.model._meta.pk
            collected[table.name].put(pk_key(table.model, record[pk.name]), DELETED, None)
        if sum(len(c.rows) for c in collected.values()) > limit:
            raise too_many_changes(limit)
        cursors.update({label: model_page.cursor.encode() for label, model_page in page.models.items()})
        requests = {
            model: cursors[model._meta.label] for model in requests if page.models[model._meta.label].has_more
        }

    for name in migration.columns - migration.tables:
        if name in tables:
            _add_all_rows(access, tables[name], collected[name])
    records = sum(len(c.rows) for c in collected.values())
    if records > limit:
        raise too_many_changes(limit)
    dropped = _dropped_tables(stored, tables)
    # A rescan (the caller's view changed) sent every row of the new view: answered as a replacement, it
    # names no row the caller may never have had. A rescan not finished in this answer (a pull in parts)
    # keeps its deleted ids, since the client must not drop the rows of the parts still to come.
    replaced = [
        name
        for name, table in tables.items()
        if kinds[table.label] == UPDATED and table.model not in requests
    ]
    for name in replaced:
        collected[name].drop_deleted()
    unfinished = sorted(m._meta.label for m in requests if kinds[m._meta.label] == CREATED)
    issued = issue_checkpoint(access, cursors, checkpoint, unfinished)
    changes = {name: c.as_dict() for name, c in collected.items()}
    changes.update({name: {CREATED: [], UPDATED: [], DELETED: []} for name in dropped})
    return WatermelonPull(
        changes=changes,
        timestamp=issued.pk,
        dropped=dropped,
        replaced=replaced,
        records=records,
        labels=sorted(by_label),
        has_more=bool(requests) if max_records is not None else None,
    )


def _values(table: Table, record: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The row id and the values by attname of an engine payload (keyed by field name)."""
    by_attname = {attname: record[key] for attname, key in output_fields(table.model)}
    return pk_key(table.model, by_attname[table.model._meta.pk.attname]), by_attname


def _add_all_rows(access: Access, table: Table, changes: _Changes) -> None:
    """Every row of the caller's view of ``table`` as ``updated`` (rows already in the answer keep their
    place): WatermelonDB's migration sync for a table that gained columns."""
    pk = table.model._meta.pk
    attnames = [pk.attname, *(column.name for column in table.columns)]
    for values in access.rows(table.model).order_by().values(*attnames).iterator(chunk_size=1000):
        row_id = pk_key(table.model, values[pk.attname])
        if row_id not in changes.rows:
            changes.put(row_id, UPDATED, raw_record(table, row_id, values))


def _dropped_tables(stored: dict[str, str], tables: dict[str, Table]) -> list[str]:
    """Tables of models the client pulled before but may no longer pull (permission revoked, model
    disabled): their local rows must go."""
    current = {table.label for table in tables.values()}
    dropped = []
    for label in stored:
        if label in current:
            continue
        try:
            model = apps.get_model(label)
        except LookupError:
            continue
        dropped.append(table_name(model))
    return sorted(dropped)
