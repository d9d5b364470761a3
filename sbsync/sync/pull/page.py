"""Build one pull page (sbsync/docs/protocol.md section 5): the changes after each model's start position, in change
order, for the rows the caller may see, at most ``batch_size`` records in all.

How a page is built:

1. Start positions are parsed and checked (sync/pull/cursor.py) before anything is written.
2. In one snapshot (REPEATABLE READ on PostgreSQL), one statement reads the scopes' clocks (horizons,
   and a first sync's floor) and tells whether the index is ready: every model backfilled in its scope,
   no pending records. When it is not, the snapshot is left, rows that predate the change index are
   entered (``ensure_backfilled``) and committed changes positioned (``stamp_pending``), each
   committing on its own so the scope's clock lock is never held while a page is served, and the page
   is read in a new snapshot.
3. Per model, the change index is range scanned, ``seq > cursor`` in order, in chunks of one record more
   than the page can take, each chunk left-joined by primary key to the model's rows with
   ``Access.row_filter`` (tenant and data filters) tested in the select list: one statement per chunk
   (``ChangesQuery``). A record whose row is visible is sent as data with the record's version; one
   whose row is deleted, gone or outside the view is sent as deleted. Records below a cursor's floor
   that the client cannot hold are skipped (see sync/pull/cursor.py) and do not count toward
   ``batch_size``; at most ``SCAN_LIMIT`` records are looked at per request.
4. The last sync time and total records per user and per organization are updated (one upsert per
   table) and the user's previous sync times read (``pull_synced``): a request does it with its SyncLog
   (sbsync/sync/activity.py), in one statement on PostgreSQL.

The record and the row come from the same snapshot, so ``_version`` always names the state sent. Each
row has one record per scope, so a row appears at most once per page.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from django.db import models, transaction
from django.db.models import Case, Value, When
from django.utils import timezone

from sbsync.access import Access
from sbsync.models import ChangeClock, SyncRecord
from sbsync.rows import built_for
from sbsync.sync.changes.index import ensure_backfilled, index_state, position_at, stamp_pending
from sbsync.sync.counters import Synced
from sbsync.sync.pull.cursor import Cursor, cursor_expired, invalid_cursor, parse_start
from sbsync.sync.records import RowReader, attnames, stored_key

SCAN_CHUNK = 1000
SCAN_LIMIT = 20_000
VISIBLE = "sbsync_visible"


@dataclass
class ModelPage:
    """What one model contributed to a page, and where its client stands afterwards."""

    cursor: Cursor
    has_more: bool
    count: int = 0
    deleted: int = 0
    last_sync: datetime | None = None
    user_last_sync: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "deleted": self.deleted,
            "cursor": self.cursor.encode(),
            "has_more": self.has_more,
            "last_sync": self.last_sync,
            "user_last_sync": self.user_last_sync,
        }


@dataclass
class PullPage:
    batch_size: int
    data: list[dict[str, Any]] = field(default_factory=list)
    deleted: list[dict[str, Any]] = field(default_factory=list)
    models: dict[str, ModelPage] = field(default_factory=dict)

    def synced(self, synced: Synced) -> None:
        """Take the sync times ``synced`` wrote: this pull's, and the user's previous ones."""
        for label, model_page in self.models.items():
            model_page.last_sync = synced.now
            model_page.user_last_sync = synced.previous.get(label)

    @property
    def total_records(self) -> int:
        return len(self.data) + len(self.deleted)

    @property
    def has_more(self) -> bool:
        return any(m.has_more for m in self.models.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "data": self.data,
            "deleted": self.deleted,
            "metadata": {label: m.as_dict() for label, m in self.models.items()},
            "batch_info": {
                "batch_size": self.batch_size,
                "total_records": self.total_records,
                "has_more": self.has_more,
            },
        }


@dataclass
class _Allowance:
    """What is left of the request's record budget and scan limit."""

    records: int
    scans: int


def scope_rows(access: Access, model: type[models.Model]) -> models.QuerySet[Any]:
    """Every row of ``model`` in the caller's scope, before data filters: what backfill enters."""
    return model._default_manager.filter(access.scope_filter(model))


def build_pull_page(
    *, access: Access, requests: dict[type[models.Model], str | None], batch_size: int
) -> PullPage:
    """Serve one page of changes for ``requests`` (model → null, ISO timestamp or cursor), models in
    the given order, each taking what is left of ``batch_size``, and record it (``read_pull_page``, then
    the sync metadata of ``pull_synced``).

    Raises ProtocolError ``invalid_cursor`` / ``invalid_timestamp`` (bad start position, nothing written)
    and ``cursor_expired`` (a position older than the tombstone horizon). Side effects: those of both.
    """
    page = read_pull_page(access=access, requests=requests, batch_size=batch_size)
    synced = pull_synced(access, page)
    synced.write()
    page.synced(synced)
    return page


def read_pull_page(
    *, access: Access, requests: dict[type[models.Model], str | None], batch_size: int
) -> PullPage:
    """The page of ``build_pull_page`` without its sync metadata (``pull_synced``): a request writes that
    with its SyncLog (sync/pull/serve.py).

    Side effects: only when the index needs it (rows that predate tracking, pending records), backfills
    and stamps the scopes' change index, each committing on its own, before the page is read.
    """
    starts = {model: parse_start(value, model._meta.label) for model, value in requests.items()}
    for model, start in starts.items():
        if isinstance(start, Cursor):
            _check_issued_for(access, model, start)
    page = _read_in_snapshot(access, starts, batch_size, prepared=False)
    if page is None:
        for model in starts:
            ensure_backfilled(model, access.scope(model), scope_rows(access, model))
        for scope in dict.fromkeys(access.scope(model) for model in starts):
            stamp_pending(scope)
        page = _read_in_snapshot(access, starts, batch_size, prepared=True)
    assert page is not None  # prepared: read whatever the index state
    return page


def _read_in_snapshot(
    access: Access,
    starts: dict[type[models.Model], Cursor | datetime | None],
    batch_size: int,
    *,
    prepared: bool,
) -> PullPage | None:
    """The page, read in one snapshot; None when the index must be prepared first (``prepared`` False
    and a model not yet backfilled or a scope with pending records), which the same statement that reads
    the clocks tells, so a steady-state page pays no probe of its own."""
    page = PullPage(batch_size=batch_size)
    allowance = _Allowance(records=batch_size, scans=SCAN_LIMIT)
    with read_snapshot() as local_settings:
        scopes = {model._meta.label: access.scope(model) for model in starts}
        state = index_state(scopes, local_settings=local_settings)
        if not prepared and not state.ready:
            return None
        cursors = {
            model: _resume(access, model, start, state.clocks.get(access.scope(model)))
            for model, start in starts.items()
        }
        for model, cursor in cursors.items():
            label = model._meta.label
            if allowance.records and allowance.scans:
                page.models[label] = _serve(access, model, cursor, allowance, page)
            else:
                page.models[label] = ModelPage(cursor=cursor, has_more=True)
    return page


def _check_issued_for(access: Access, model: type[models.Model], cursor: Cursor) -> None:
    label = model._meta.label
    if (cursor.organization, cursor.model_label, cursor.scope) != (
        access.organization.pk,
        label,
        access.scope(model),
    ):
        raise invalid_cursor(label, f"The cursor of {label} was not issued for this organization and model.")


@contextmanager
def read_snapshot() -> Iterator[dict[str, str]]:
    """One consistent read of the change index and the rows. On PostgreSQL the default READ COMMITTED
    would let a row committed between two queries be sent with an older record's version, so a
    transaction we own begins REPEATABLE READ (set on the driver's connection: its BEGIN says so,
    without a statement of its own). On SQLite a transaction is a snapshot already; ours is deferred.

    Every read of a page is an index access (a range of the change index, rows by primary key). Costing
    a chunk of 500 random key probes against a table of about 100k rows, PostgreSQL's planner picks a
    sequential scan, several times slower and growing with the table; sequential scans are therefore
    disabled for this transaction only, when we own it: the block's first statement sets the settings
    it is given (``index_state``'s ``local_settings``)."""
    connection = transaction.get_connection()
    owned = not connection.in_atomic_block
    if owned and connection.vendor == "sqlite":
        # A deferred BEGIN: the page reads from a WAL snapshot without taking SQLite's write lock, which
        # the configured IMMEDIATE mode would take and hold against every push for the read's length.
        connection.ensure_connection()
        mode, connection.transaction_mode = connection.transaction_mode, None
        try:
            with transaction.atomic():
                yield {}
        finally:
            connection.transaction_mode = mode
        return
    if not owned or connection.vendor != "postgresql":
        with transaction.atomic():
            yield {}
        return
    # Imported here: the PostgreSQL driver is an optional dependency (the postgres extra).
    from django.db.backends.postgresql.psycopg_any import IsolationLevel

    connection.ensure_connection()
    driver = connection.connection
    default = driver.isolation_level
    driver.isolation_level = IsolationLevel.REPEATABLE_READ
    try:
        with transaction.atomic():
            yield {"enable_seqscan": "off"}
    finally:
        if not driver.closed:
            driver.isolation_level = default


def _resume(
    access: Access, model: type[models.Model], start: Cursor | datetime | None, clock: ChangeClock | None
) -> Cursor:
    """Where to continue from for ``start``, checked against the tombstone horizon of the scope's
    ``clock`` (None while nothing of the scope has been positioned)."""
    label = model._meta.label
    scope, fingerprint = access.scope(model), access.fingerprint(model)
    latest, horizon = (clock.seq, clock.horizon) if clock else (0, 0)
    if start is None:
        # A first sync: everything positioned up to now that the client cannot see is skipped.
        return Cursor(access.organization.pk, label, scope, 0, fingerprint, floor=latest, initial=latest > 0)
    if isinstance(start, datetime):
        seq = position_at(scope, start)
        if seq < horizon:
            raise cursor_expired(label, _expired_detail(label))
        # A first pull from a timestamp: up to now, a tombstone only for a row that was deleted, never
        # the id of a live row outside the view, which the client never received.
        if latest <= seq:
            return Cursor(access.organization.pk, label, scope, seq, fingerprint)
        return Cursor(
            access.organization.pk, label, scope, seq, fingerprint, floor=latest, from_timestamp=True
        )
    if start.reached < horizon:
        raise cursor_expired(label, _expired_detail(label))
    if start.fingerprint != fingerprint:
        # The view changed: rescan everything so rows that left it are deleted and rows that entered it
        # arrive. Tombstones up to where the client had reached were already delivered (or skippable).
        return Cursor(
            access.organization.pk, label, scope, 0, fingerprint, floor=start.reached, initial=False
        )
    return start


def _expired_detail(label: str) -> str:
    return (
        f"The position of {label} is older than the tombstone retention horizon: "
        "drop the local copy and pull it again from null."
    )


def _serve(
    access: Access, model: type[models.Model], cursor: Cursor, allowance: _Allowance, page: PullPage
) -> ModelPage:
    label = model._meta.label
    pk_field = model._meta.pk
    changes = changes_query(model, access, cursor.scope)
    result = ModelPage(cursor=cursor, has_more=True)
    position = cursor.seq
    size = min(allowance.records, SCAN_CHUNK)
    while True:
        limit = min(size, allowance.scans)
        if not allowance.records or not limit:
            # Only reached after a chunk that had a record beyond it.
            break
        # One record more than the chunk tells whether anything follows it.
        fetched = changes.after(position, limit + 1)
        chunk, beyond = fetched[:limit], len(fetched) > limit
        allowance.scans -= len(chunk)
        served = 0
        record_at, visible_at, to_payload = changes.record_at, changes.reader.width, changes.reader.payload
        for row in chunk:
            served += 1
            seq, object_pk, version, deleted = row[record_at:]
            position = seq
            # The primary key (first column) is NULL when no row joined; the view's flag follows the columns.
            if row[0] is not None and row[visible_at]:
                page.data.append(to_payload(row, version))
                result.count += 1
                allowance.records -= 1
            elif seq > cursor.floor or (
                deleted if cursor.from_timestamp else not (deleted or cursor.initial)
            ):
                page.deleted.append(
                    {"_model": label, pk_field.name: pk_field.to_python(object_pk), "_version": version}
                )
                result.deleted += 1
                allowance.records -= 1
            if not allowance.records:
                break
        if served < len(chunk):
            break
        if not beyond:
            result.has_more = False
            break
        size = min(SCAN_CHUNK, size * 2)
    result.cursor = cursor.advanced(position)
    return result


class ChangesQuery:
    """One statement per chunk: a range of a model's change index (``seq > position`` in order, on the
    ``(scope, model_label, seq)`` index) left-joined by primary key to the model's rows, with the view
    (``rows_with_visibility``) tested in the select list. A record whose row is absent (deleted, gone,
    moved) comes back with NULL columns. Rows are decoded only when sent (``RowReader``).

    The change index stores keys as text (``pk_key``); ``stored_key`` turns that text into the key as
    the model's table stores it, so the join probes the table's primary key index per record."""

    def __init__(self, model: type[models.Model], access: Access, scope: int) -> None:
        connection = transaction.get_connection()
        rows = rows_with_visibility(model, access).values(*attnames(model), VISIBLE)
        compiler = rows.query.get_compiler(connection=connection)
        inner, inner_params = compiler.as_sql()
        self.reader = RowReader(model, compiler, connection)
        self.record_at = self.reader.width + 1
        quote = connection.ops.quote_name
        pk = quote(model._meta.pk.attname)
        self.sql = (
            f"SELECT m.*, r.seq, r.object_pk, r.version, r.deleted FROM {quote(SyncRecord._meta.db_table)} r "
            f"LEFT JOIN ({inner}) m ON NOT r.deleted AND m.{pk} = {stored_key(model, connection, 'r.object_pk')} "
            "WHERE r.scope = %s AND r.model_label = %s AND r.seq > %s ORDER BY r.seq LIMIT %s"
        )
        self.scope, self.label, self.inner_params = scope, model._meta.label, list(inner_params)
        self.connection = connection

    def after(self, position: int, count: int) -> list[tuple[Any, ...]]:
        """The next ``count`` records after ``position``, each with its row's columns (or NULLs)."""
        with self.connection.cursor() as cursor:
            cursor.execute(self.sql, [*self.inner_params, self.scope, self.label, position, count])
            return cast("list[tuple[Any, ...]]", cursor.fetchall())


_compiled = threading.local()
COMPILED_LIMIT = 128


def changes_query(model: type[models.Model], access: Access, scope: int) -> ChangesQuery:
    """``ChangesQuery(model, access, scope)``, compiled once per view: compiling the rows' query cost a
    page about 0.5 ms. The statement depends only on the model, the scope and the view (the configuration
    generation, and the group and resolved filters of ``Access.fingerprint``), so it is kept per thread
    (it holds the thread's connection), for the COMPILED_LIMIT views used last."""
    connection = transaction.get_connection()
    cache: OrderedDict[tuple[Any, ...], ChangesQuery] = _compiled.__dict__.setdefault(
        "queries", OrderedDict()
    )
    key = (*built_for(connection), model._meta.label, scope, access.generation, access.fingerprint(model))
    found = cache.get(key)
    if found is None or found.connection is not connection:
        found = cache[key] = ChangesQuery(model, access, scope)
        if len(cache) > COMPILED_LIMIT:
            cache.popitem(last=False)
    else:
        cache.move_to_end(key)
    return found


def rows_with_visibility(model: type[models.Model], access: Access) -> models.QuerySet[Any]:
    """The model's rows annotated with whether the caller may see them. Selecting by primary key and
    testing the view in the select list keeps each chunk's fetch on the primary key index, where a
    WHERE on tenant and filters can lead a planner without statistics (SQLite) to scan the whole
    organization through the tenant index."""
    condition = access.row_filter(model)
    flag = Case(When(condition, then=Value(True)), default=Value(False)) if condition else Value(True)
    rows: models.QuerySet[Any] = model._default_manager.order_by().annotate(**{VISIBLE: flag})
    return rows


def pull_synced(access: Access, page: PullPage) -> Synced:
    """The sync metadata ``page`` moves: per user and per organization, last sync time now and the
    records sent added to the totals. Written outside the read snapshot (REPEATABLE READ would refuse
    updating a row another pull just updated)."""
    moved = {label: m.count + m.deleted for label, m in page.models.items()}
    return Synced(access.user.pk, access.organization.pk, moved, timezone.now())
