"""The change index: every change of a tracked row, positioned in commit order per scope.

Why not a sequence or an ``auto_now`` timestamp: on PostgreSQL, transaction A can take sequence value 10
(or timestamp t1) and commit after transaction B took 11 (t2) and committed. A client that pulls between
the two commits sees 11, moves its cursor past 10, and never receives A's change.

How positions are assigned instead:

* Writers never assign positions. A write upserts the row's ``SyncRecord`` with ``seq = NULL``
  (pending) and ``version + 1`` (``write_changes``).
* ``stamp_pending`` numbers pending records. It holds the scope's ``ChangeClock`` row lock, so stamp runs
  are serialized and each commits before the next begins. It can only see committed records, so a late
  commit is numbered after everything any client has already read. The positions visible to a reader are
  therefore always a prefix of the clock, which is what makes a ``seq > cursor`` scan exact.
* Pull stamps before it reads. Records locked by a writer at that moment are skipped (``SKIP LOCKED``):
  their writer re-pends them, and the next run numbers them, so stamping never waits on a writer and never
  deadlocks with one.

Push buffers its changes (``collecting_changes``) and writes them in one upsert per scope and model;
saves elsewhere (admin, shell, the host's code) are written as they happen by sync/changes/tracking.py.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Any, NamedTuple

from django.db import models, transaction
from django.db.models import F, Max
from django.utils import timezone

from sbsync.models import ChangeClock, StampCheckpoint, SyncRecord, TrackedModel
from sbsync.sync.push.sql import array_literal

CHUNK = 1000
STAMP_CHUNK = 5000


def batched(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    """``itertools.batched`` arrived in Python 3.12; we support 3.11."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


class RowChange(NamedTuple):
    """One row changed. ``scope`` is the organization id (0 for shared models) or None when the row now
    belongs to no organization; ``tenant`` says whether the row may have moved between scopes. (A named
    tuple: a push makes one per row written, and a frozen dataclass costs a ``__setattr__`` per field.)"""

    model_label: str
    object_pk: str
    scope: int | None
    deleted: bool
    tenant: bool = True


def pk_key(model: type[models.Model], value: Any) -> str:
    """The canonical text of a primary key value, as stored in ``SyncRecord.object_pk``."""
    return str(model._meta.pk.to_python(value))


_buffer: ContextVar[list[RowChange] | None] = ContextVar("sbsync_change_buffer", default=None)


@contextmanager
def collecting_changes() -> Iterator[list[RowChange]]:
    """Buffer the changes recorded inside the block instead of writing them one by one. The caller
    passes the buffer to ``write_changes`` before its transaction commits (push does)."""
    buffer: list[RowChange] = []
    token = _buffer.set(buffer)
    try:
        yield buffer
    finally:
        _buffer.reset(token)


def record_changes(changes: Iterable[RowChange]) -> None:
    """Enter changes in the index now, or in the active buffer when inside ``collecting_changes``."""
    buffer = _buffer.get()
    if buffer is not None:
        buffer.extend(changes)
    else:
        write_changes(list(changes))


def write_changes(
    changes: list[RowChange], *, reached: dict[int, int] | None = None
) -> dict[tuple[str, str], int]:
    """Upsert the records of ``changes`` with their versions bumped, in one statement per scope and
    model that returns the new versions.

    Without ``reached`` (saves outside a push) records are left pending (``seq = NULL``) for
    ``stamp_pending``. With it (push), the scope's clock is advanced by the number of records of each
    model (``upsert_positioned``, one statement on PostgreSQL), which locks the clock row until the
    caller's transaction commits, and the records get the positions just reserved (``reached``
    receives each scope's last). Two writers of a scope thus commit in the order of their positions, and a pull, which stamps under the same lock, never sees a position above one still
    uncommitted: ``seq > cursor`` stays exact without a second transaction.

    Side effects, per model: one update that tombstones the row in any other scope it was in (a row
    moved between organizations). Later changes of the same row in ``changes`` win. Returns the new
    version of each (model, pk).
    """
    latest: dict[tuple[str, str], RowChange] = {}
    for change in changes:
        latest[(change.model_label, change.object_pk)] = change
    if not latest:
        return {}
    now = timezone.now()
    versions: dict[tuple[str, str], int] = {}
    by_scope: dict[int, dict[str, list[RowChange]]] = defaultdict(lambda: defaultdict(list))
    moved: dict[tuple[str, int | None], list[str]] = defaultdict(list)
    for change in latest.values():
        if change.scope is not None:
            by_scope[change.scope][change.model_label].append(change)
        if change.tenant and not (change.deleted and change.scope is not None):
            moved[(change.model_label, change.scope)].append(change.object_pk)

    with transaction.atomic(savepoint=False):
        for scope, labels in sorted(by_scope.items()):
            for label, group in labels.items():
                # One order for every writer, so two upserts of overlapping rows cannot deadlock.
                group.sort(key=lambda c: c.object_pk)
                for chunk in batched(group, CHUNK):
                    if reached is None:
                        written = upsert_records(scope, label, chunk, [None] * len(chunk), now)
                    else:
                        written, reached[scope] = upsert_positioned(scope, label, chunk, now)
                    versions.update({(label, pk): version for pk, version in written})
        for (label, current_scope), pks in moved.items():
            for chunk in batched(pks, CHUNK):
                elsewhere = SyncRecord.objects.filter(model_label=label, object_pk__in=chunk, deleted=False)
                if current_scope is not None:
                    elsewhere = elsewhere.exclude(scope=current_scope)
                elsewhere.update(deleted=True, version=F("version") + 1, seq=None, changed_at=now)
    return versions


def upsert_records(
    scope: int, label: str, changes: list[RowChange], seqs: list[int | None], now: datetime
) -> list[tuple[str, int]]:
    """Insert or bump the records of ``changes`` (one scope and model) at positions ``seqs`` (None:
    pending); one statement. Returns (object_pk, new version) of each."""
    connection = transaction.get_connection()
    quote = connection.ops.quote_name
    table = quote(SyncRecord._meta.db_table)
    columns = "scope, model_label, object_pk, version, seq, deleted, changed_at"
    conflict = (
        f"ON CONFLICT (scope, model_label, object_pk) DO UPDATE SET version = {table}.version + 1, "
        "seq = excluded.seq, deleted = excluded.deleted, changed_at = excluded.changed_at "
        "RETURNING object_pk, version"
    )
    changed_at = connection.ops.adapt_datetimefield_value(now)
    if connection.vendor == "postgresql":
        sql = (
            f"INSERT INTO {table} ({columns}) SELECT %s, %s, u.pk, 1, u.seq, u.deleted, %s "
            "FROM UNNEST(%s::varchar[], %s::bigint[], %s::boolean[]) AS u(pk, seq, deleted) " + conflict
        )
        params: list[Any] = [
            scope,
            label,
            changed_at,
            array_literal([c.object_pk for c in changes]),
            array_literal(seqs),
            array_literal([c.deleted for c in changes]),
        ]
    else:
        sql = f"INSERT INTO {table} ({columns}) VALUES " + ", ".join(
            ["(%s, %s, %s, 1, %s, %s, %s)"] * len(changes)
        )
        sql += " " + conflict
        params = []
        for change, seq in zip(changes, seqs, strict=True):
            params += [scope, label, change.object_pk, seq, change.deleted, changed_at]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(pk, int(version)) for pk, version in cursor.fetchall()]


def upsert_positioned(
    scope: int, label: str, changes: list[RowChange], now: datetime
) -> tuple[list[tuple[str, int]], int]:
    """``upsert_records`` at the next ``len(changes)`` positions of the scope's clock, reserved with
    ``advance_clock``; returns (object_pk, new version) of each and the last position. On PostgreSQL in
    one statement (the clock's upsert in a WITH): the clock row is locked by the statement that uses it."""
    connection = transaction.get_connection()
    if connection.vendor != "postgresql":
        last = advance_clock(scope, len(changes))
        seqs: list[int | None] = list(range(last - len(changes) + 1, last + 1))
        return upsert_records(scope, label, changes, seqs, now), last
    quote = connection.ops.quote_name
    table = quote(SyncRecord._meta.db_table)
    clock = quote(ChangeClock._meta.db_table)
    sql = (
        f"WITH clock AS (INSERT INTO {clock} (scope, seq, horizon) VALUES (%s, %s, 0) ON CONFLICT (scope) "
        f"DO UPDATE SET seq = {clock}.seq + excluded.seq RETURNING seq) "
        f"INSERT INTO {table} (scope, model_label, object_pk, version, seq, deleted, changed_at) "
        "SELECT %s, %s, u.pk, 1, clock.seq - %s + u.n, u.deleted, %s "
        "FROM UNNEST(%s::varchar[], %s::boolean[]) WITH ORDINALITY AS u(pk, deleted, n), clock "
        f"ON CONFLICT (scope, model_label, object_pk) DO UPDATE SET version = {table}.version + 1, "
        "seq = excluded.seq, deleted = excluded.deleted, changed_at = excluded.changed_at "
        "RETURNING object_pk, version, seq"
    )
    params = [
        scope,
        len(changes),
        scope,
        label,
        len(changes),
        connection.ops.adapt_datetimefield_value(now),
        array_literal([c.object_pk for c in changes]),
        array_literal([c.deleted for c in changes]),
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [(pk, int(version)) for pk, version, _ in rows], max(int(seq) for _, _, seq in rows)


def advance_clock(scope: int, count: int) -> int:
    """Reserve ``count`` positions of the scope's clock; returns the last one. The clock row stays
    locked until the transaction ends (one statement; the clock is created when missing)."""
    connection = transaction.get_connection()
    table = connection.ops.quote_name(ChangeClock._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (scope, seq, horizon) VALUES (%s, %s, 0) "
            f"ON CONFLICT (scope) DO UPDATE SET seq = {table}.seq + excluded.seq RETURNING seq",
            [scope, count],
        )
        return int(cursor.fetchone()[0])


def write_checkpoints(reached: dict[int, int]) -> None:
    """After a push committed: where each scope's clock stood (``position_at`` turns timestamps into
    positions with these). Written after the commit, so a checkpoint never names a position that was
    not yet visible at its time; one statement for every scope.

    On PostgreSQL, when the statement is its own transaction, it commits asynchronously
    (``synchronous_commit`` off for it alone): a checkpoint lost in a crash only makes a timestamp map
    to an earlier one, so a client gets some rows again, never fewer, and the push's answer does not
    wait for a second flush of the WAL."""
    if not reached:
        return
    connection = transaction.get_connection()
    quote = connection.ops.quote_name
    when = connection.ops.adapt_datetimefield_value(timezone.now())
    rows = sorted(reached.items())
    insert = (
        f"INSERT INTO {quote(StampCheckpoint._meta.db_table)} (scope, seq, stamped_at) VALUES "
        + ", ".join(["(%s, %s, %s)"] * len(rows))
    )
    params = [value for scope, seq in rows for value in (scope, seq, when)]
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        insert = f"WITH written AS ({insert}) SELECT set_config('synchronous_commit', 'off', true)"
    with connection.cursor() as cursor:
        cursor.execute(insert, params)


def _locked_clock(scope: int) -> ChangeClock:
    try:
        return ChangeClock.objects.select_for_update().get(scope=scope)
    except ChangeClock.DoesNotExist:
        ChangeClock.objects.bulk_create([ChangeClock(scope=scope)], ignore_conflicts=True)
        return ChangeClock.objects.select_for_update().get(scope=scope)


def stamp_pending(scope: int) -> None:
    """Give the scope's committed pending records positions after every position handed out before.

    Side effects: updates ``SyncRecord.seq``, advances the ``ChangeClock`` and writes a
    ``StampCheckpoint``. Positions within one run follow record ids, leaving gaps; only their order
    matters.
    """
    if not SyncRecord.objects.filter(scope=scope, seq__isnull=True).exists():
        return
    with transaction.atomic():
        clock = _locked_clock(scope)
        start = clock.seq
        while True:
            ids = list(
                SyncRecord.objects.select_for_update(skip_locked=True)
                .filter(scope=scope, seq__isnull=True)
                .order_by("id")
                .values_list("id", flat=True)[:STAMP_CHUNK]
            )
            if not ids:
                break
            offset = clock.seq + 1 - ids[0]
            SyncRecord.objects.filter(id__in=ids).update(seq=F("id") + offset)
            clock.seq = ids[-1] + offset
            if len(ids) < STAMP_CHUNK:
                break
        if clock.seq != start:
            clock.save(update_fields=["seq"])
            StampCheckpoint.objects.create(scope=scope, seq=clock.seq, stamped_at=timezone.now())


@dataclass(frozen=True)
class IndexState:
    """What a pull needs to know of the change index before reading: each scope's clock (absent while
    nothing of the scope was positioned), and whether it is ready to be read as it stands."""

    clocks: dict[int, ChangeClock]
    ready: bool


def index_state(scopes: dict[str, int], *, local_settings: dict[str, str] | None = None) -> IndexState:
    """For ``scopes`` (model label → scope), in one statement: each scope's clock, whether every model
    is backfilled in its scope (``ensure_backfilled``) and whether no scope holds pending records
    (``stamp_pending``). Both checks are index lookups (the TrackedModel key, the pending partial index)
    folded into the clock read, so a pull whose index is ready pays no statement for them.

    ``local_settings`` (PostgreSQL): run-time settings the same statement sets for the rest of the
    transaction (``set_config(name, value, true)``, as ``SET LOCAL`` would in a statement of its own)."""
    connection = transaction.get_connection()
    quote = connection.ops.quote_name
    clocks, records, tracked = (quote(m._meta.db_table) for m in (ChangeClock, SyncRecord, TrackedModel))
    by_scope: dict[int, list[str]] = defaultdict(list)
    for label, scope in scopes.items():
        by_scope[scope].append(label)
    selects, params = [], []
    for scope, labels in by_scope.items():
        selects.append(
            f"SELECT CAST(%s AS bigint), c.seq, c.horizon, "
            f"EXISTS(SELECT 1 FROM {records} r WHERE r.scope = %s AND r.seq IS NULL), "
            f"(SELECT COUNT(*) FROM {tracked} t WHERE t.scope = %s AND t.model_label IN "
            f"({', '.join(['%s'] * len(labels))})) "
            f"FROM (SELECT 1 AS one) o LEFT JOIN {clocks} c ON c.scope = %s"
        )
        params += [scope, scope, scope, *labels, scope]
    sql = " UNION ALL ".join(selects)
    if local_settings:
        configured = ", ".join(["set_config(%s, %s, true)"] * len(local_settings))
        sql = f"SELECT * FROM ({sql}) s CROSS JOIN (SELECT {configured}) settings"
        params += [item for setting in local_settings.items() for item in setting]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = [row[:5] for row in cursor.fetchall()]
    ready = all(not pending and count == len(by_scope[scope]) for scope, _, _, pending, count in rows)
    found = {
        scope: ChangeClock(scope=scope, seq=seq, horizon=horizon)
        for scope, seq, horizon, _, _ in rows
        if seq is not None
    }
    return IndexState(clocks=found, ready=ready)


def position_at(scope: int, moment: datetime) -> int:
    """The position a client that synced at ``moment`` has reached: every record positioned after it
    changed after ``moment`` or was committed too late to be seen then (the seed's timestamp form)."""
    seq = (
        StampCheckpoint.objects.filter(scope=scope, stamped_at__lte=moment)
        .order_by("-stamped_at", "-seq")
        .values_list("seq", flat=True)
        .first()
    )
    return seq or 0


def ensure_backfilled(model: type[models.Model], scope: int, queryset: models.QuerySet[Any]) -> int:
    """Enter the rows of ``queryset`` (the scope's rows of ``model``) that predate tracking, once per
    scope and model, so the first pull serves rows that existed before sync was enabled.

    Side effects: inserts pending SyncRecords (existing ones untouched) and a TrackedModel marker.
    Returns the number of rows considered (0 when already done).
    """
    label = model._meta.label
    if TrackedModel.objects.filter(scope=scope, model_label=label).exists():
        return 0
    now = timezone.now()
    count = 0
    pks = queryset.order_by().values_list("pk", flat=True).iterator(chunk_size=CHUNK)
    for chunk in batched(pks, CHUNK):
        SyncRecord.objects.bulk_create(
            [
                SyncRecord(
                    scope=scope, model_label=label, object_pk=pk_key(model, pk), seq=None, changed_at=now
                )
                for pk in chunk
            ],
            ignore_conflicts=True,
        )
        count += len(chunk)
    TrackedModel.objects.bulk_create(
        [TrackedModel(scope=scope, model_label=label, backfilled_at=now)], ignore_conflicts=True
    )
    return count


def compact_tombstones(*, older_than: datetime) -> int:
    """Delete positioned tombstones that changed before ``older_than`` and raise each scope's horizon
    to the highest position removed. Returns the number of tombstones removed."""
    removed = 0
    expired = SyncRecord.objects.filter(deleted=True, seq__isnull=False, changed_at__lt=older_than)
    for row in expired.values("scope").annotate(top=Max("seq")):
        with transaction.atomic():
            clock = _locked_clock(row["scope"])
            count, _ = expired.filter(scope=row["scope"], seq__lte=row["top"]).delete()
            removed += count
            if row["top"] > clock.horizon:
                clock.horizon = row["top"]
                clock.save(update_fields=["horizon"])
    StampCheckpoint.objects.filter(stamped_at__lt=older_than).delete()
    return removed
