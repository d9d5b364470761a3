"""What every push and pull leaves behind: a SyncLog row, a PerformanceMetrics row, and a line in the log
file under LOG_DIR.

Log files are named by day (``sb_sync-2026-11-29.log``) rather than rotated by renaming, so several worker
processes can append to the same day's file safely; the cleanup task and command remove files older than
``LOG_FILE_DAYS`` (sbsync/monitoring/maintenance.py).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import psutil
from django.db import connection, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

from sbsync import conf
from sbsync.enums import LogStatus, Operation
from sbsync.models import Organization, PerformanceMetrics, SyncLog
from sbsync.rows import column_name, field_column, insert_values
from sbsync.sync.counters import Synced

LOG_FILE_DAYS = 30
REQUEST_DATA_LIMIT = 4096
# The log line: its level by outcome (a partial push warns, a failed request is an error), and its bounds.
LEVELS: dict[str, str] = {LogStatus.SUCCESS: "INFO", LogStatus.WARNING: "WARNING", LogStatus.ERROR: "ERROR"}
LOGGED_MODELS = 20
LOGGED_FAILURES = 20
LOGGED_VALUES_LIMIT = 2000
SECRET_KEYS = frozenset({"password", "token", "secret", "authorization", "api_key", "apikey"})
logger = logging.getLogger("sbsync.sync")


@dataclass
class Measurement:
    """Wall time and database queries of one operation, filled in when its block ends or when
    ``stop`` is called inside it (to record the figures in the block's own last transaction)."""

    started: float = field(default_factory=time.perf_counter)
    queries: int = 0
    seconds: float = 0.0
    stopped: bool = False

    def stop(self) -> None:
        """Fix the figures now; what the block still runs (the activity rows) is not counted."""
        if not self.stopped:
            self.seconds = time.perf_counter() - self.started
            self.stopped = True


@contextmanager
def measured() -> Iterator[Measurement]:
    """Time a block and count the queries it runs on the default connection."""
    measurement = Measurement()

    def count(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        if not measurement.stopped:
            measurement.queries += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        try:
            yield measurement
        finally:
            measurement.stop()


_process: psutil.Process | None = None


def memory_mb() -> float:
    """This process's resident memory; the psutil handle is made once per process (a forked worker
    makes its own), not per request."""
    global _process
    if _process is None or _process.pid != os.getpid():
        _process = psutil.Process(os.getpid())
    return float(_process.memory_info().rss) / (1024 * 1024)


def redact(data: Any, limit: int = REQUEST_DATA_LIMIT) -> Any:
    """The request data as stored in SyncLog: secrets masked, at most ``limit`` characters of JSON kept
    (records beyond that are summarised, never cut mid-value). Only what is kept is walked: a push of
    500 records stores its first few, and cleaning the others cost a push about a millisecond."""

    def clean(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: "***" if str(k).lower() in SECRET_KEYS else clean(v) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v) for v in value]
        if isinstance(value, str) and len(value) > 200:
            return value[:200] + "…"
        return value

    if not isinstance(data, dict):
        cleaned = clean(data)
        return cleaned if len(repr(cleaned)) <= limit else {"_truncated": True}
    result: dict[str, Any] = {}
    for key, value in data.items():
        if str(key).lower() in SECRET_KEYS:
            result[key] = "***"
        elif isinstance(value, list):
            kept, size = [], 0
            for item in value:
                item = clean(item)
                size += len(repr(item))
                if size > limit:
                    break
                kept.append(item)
            result[key] = kept
            if len(kept) < len(value):
                result[f"_{key}_omitted"] = len(value) - len(kept)
        else:
            result[key] = clean(value)
    return result


def storable(value: Any) -> Any:
    """``value`` with every NUL character (in strings and keys) replaced by U+FFFD: PostgreSQL stores no
    NUL in text or jsonb, and a log of bad input must not fail on the bad input it records."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {storable(k): storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [storable(v) for v in value]
    return value


def log_status(error_count: int, success_count: int) -> str:
    if error_count and not success_count:
        return LogStatus.ERROR
    return LogStatus.WARNING if error_count else LogStatus.SUCCESS


def record_activity(
    *,
    user: Any,
    organization: Organization | None,
    operation: Operation,
    status: str,
    models: list[str],
    object_count: int,
    success_count: int,
    error_count: int,
    errors: list[Any],
    request_data: Any,
    measurement: Measurement,
    records_applied: int | None = None,
    synced: Synced | None = None,
) -> SyncLog:
    """Write the SyncLog and PerformanceMetrics rows and the log-file line of one push or pull, and with
    ``synced`` a pull's sync metadata (``Synced.previous`` is filled in). The metrics row carries the
    log's status and points at the log; its ``records_applied`` (the records throughput counts) is
    ``records_applied`` when given (a dry run applies none), else ``success_count``, and none for a
    refused request.

    Side effects: the rows written together (``_write``: one statement on PostgreSQL), one line appended
    to today's log file.
    """
    models, errors = storable(models), storable(errors)
    applied = success_count if records_applied is None else records_applied
    first_error = ""
    if errors:
        first = errors[0]
        first_error = (
            first.get("detail") or str(first.get("errors", "")) if isinstance(first, dict) else str(first)
        )
    log = SyncLog(
        user=user,
        organization=organization,
        operation=operation,
        status=status,
        model_name=models[0][:100] if models else "",
        model_names=models,
        object_count=object_count,
        success_count=success_count,
        error_count=error_count,
        error_message=first_error[:2000],
        errors=errors[:100],
        request_data=storable(redact(request_data)),
        processing_time=measurement.seconds,
    )
    metrics = PerformanceMetrics(
        operation_type=operation,
        status=status,
        model_name=",".join(models)[:100],
        organization=organization,
        batch_size=object_count,
        records_applied=0 if status == LogStatus.ERROR else applied,
        processing_time=measurement.seconds,
        memory_usage=round(memory_mb(), 2),
        query_count=measurement.queries,
    )
    _write(log, metrics, synced)
    summary = payload_summary(
        operation=operation,
        status=status,
        models=models,
        object_count=object_count,
        success_count=success_count,
        error_count=error_count,
        errors=errors,
        request_data=request_data,
        measurement=measurement,
    )
    write_log_line(
        f"{operation} request from user {getattr(user, 'username', user)} in "
        f"{organization.name if organization else '-'}: {json.dumps(summary, ensure_ascii=False, default=str)}",
        level=LEVELS.get(status, "INFO"),
    )
    return log


def _write(log: SyncLog, metrics: PerformanceMetrics, synced: Synced | None) -> None:
    """Insert ``log``, then ``metrics`` pointing at it, and with ``synced`` read the previous sync times
    and upsert the metadata: all or nothing. On PostgreSQL one statement (``_write_in_one``), elsewhere
    one transaction."""
    connection = transaction.get_connection()
    log_columns, log_values = _insert_parts(log, connection)
    metrics_columns, metrics_values = _insert_parts(metrics, connection, skip=("log",))
    metrics_columns.append(connection.ops.quote_name(column_name(PerformanceMetrics, "log")))
    insert_log = (
        f"INSERT INTO {connection.ops.quote_name(SyncLog._meta.db_table)} ({', '.join(log_columns)}) "
        f"VALUES ({', '.join(['%s'] * len(log_values))})"
    )
    insert_metrics = (
        f"INSERT INTO {connection.ops.quote_name(PerformanceMetrics._meta.db_table)} "
        f"({', '.join(metrics_columns)}) "
    )
    if connection.vendor == "postgresql":
        log.pk = _write_in_one(connection, (insert_log, log_values), (insert_metrics, metrics_values), synced)
    else:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(insert_log, log_values)
            log.pk = connection.ops.last_insert_id(cursor, SyncLog._meta.db_table, SyncLog._meta.pk.column)
            cursor.execute(
                f"{insert_metrics} VALUES ({', '.join(['%s'] * (len(metrics_values) + 1))})",
                [*metrics_values, log.pk],
            )
            if synced is not None:
                synced.write()
    log._state.adding, log._state.db = False, connection.alias
    metrics.log = log


def _write_in_one(
    connection: BaseDatabaseWrapper,
    log: tuple[str, list[Any]],
    metrics: tuple[str, list[Any]],
    synced: Synced | None,
) -> Any:
    """PostgreSQL: the log, its metrics row (``INSERT … SELECT`` over the log's new id) and ``synced``'s
    upserts and previous sync times as data-modifying ``WITH`` parts of one statement; every part sees
    the snapshot from before the statement, so the previous sync times are those before the upserts.
    When the statement is a transaction of its own (a pull's or a refusal's activity, not a push's,
    whose activity commits with its data), it commits asynchronously (``synchronous_commit`` off for it
    alone): the answer does not wait for the WAL flush, and a server crash can lose the last fraction of
    a second of activity rows, never a record's data, and never leaves the database inconsistent.
    Returns the log's id."""
    (insert_log, log_values), (insert_metrics, metrics_values) = log, metrics
    parts = [
        f"log AS ({insert_log} RETURNING id)",
        f"metrics AS ({insert_metrics} SELECT {', '.join(['%s'] * len(metrics_values))}, id FROM log)",
    ]
    params = [*log_values, *metrics_values]
    select, source = "SELECT log.id, NULL, NULL", " FROM log"
    upserts = synced.upserts(connection) if synced is not None and synced.moved else []
    if synced is not None and upserts:
        previous_sql, previous_params = synced.previous_query(connection)
        parts.append(f"previous AS ({previous_sql})")
        params += previous_params
        select, source = (
            "SELECT log.id, previous.model_name, previous.last_sync",
            " FROM log LEFT JOIN previous ON true",
        )
    for n, (sql, values) in enumerate(upserts):
        parts.append(f"touched{n} AS ({sql})")
        params += values
    if not connection.in_atomic_block:
        select += ", set_config('synchronous_commit', 'off', true)"
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {', '.join(parts)} {select}{source}", params)
        rows = cursor.fetchall()
    if synced is not None and upserts:
        synced.read_previous([(row[1], row[2]) for row in rows], connection)
    return rows[0][0]


def _insert_parts(
    instance: models.Model, connection: BaseDatabaseWrapper, skip: tuple[str, ...] = ()
) -> tuple[list[str], list[Any]]:
    """The quoted columns and database values of a new row of ``instance`` (its primary key left to the
    database)."""
    fields = [f for f in instance._meta.concrete_fields if not f.primary_key and f.name not in skip]
    columns = [connection.ops.quote_name(field_column(f)) for f in fields]
    return columns, insert_values(instance, fields, connection)


def payload_summary(
    *,
    operation: str,
    status: str,
    models: list[str],
    object_count: int,
    success_count: int,
    error_count: int,
    errors: list[Any],
    request_data: Any,
    measurement: Measurement,
) -> dict[str, Any]:
    """What the log line says of a request: its outcome, the records per model, and each failed record
    by index, model, id and status (at most LOGGED_FAILURES), with its error code or the names of its
    fields in error, never their values. Field values are added (redacted, bounded) only with
    SBSYNC['LOG_PAYLOAD_VALUES']."""
    records = request_data.get("data") if isinstance(request_data, dict) else None
    counted = Counter(
        str(r.get("_model"))[:100]
        for r in (records if operation == Operation.PUSH and isinstance(records, list) else [])
        if isinstance(r, dict)
    )
    per_model: dict[str, int] | list[str] = (
        dict(counted.most_common(LOGGED_MODELS)) if counted else models[:LOGGED_MODELS]
    )
    summary: dict[str, Any] = {
        "status": str(status).lower(),
        "models": per_model,
        "records": object_count,
        "succeeded": success_count,
        "failed": error_count,
    }
    failures = [_failure(e) for e in errors[:LOGGED_FAILURES]]
    if failures:
        summary["failures"] = failures
    if len(errors) > LOGGED_FAILURES:
        summary["more_failures"] = len(errors) - LOGGED_FAILURES
    summary |= {"seconds": round(measurement.seconds, 3), "queries": measurement.queries}
    if conf.get("LOG_PAYLOAD_VALUES"):
        summary["data"] = redact(request_data, limit=LOGGED_VALUES_LIMIT)
    return summary


def _failure(error: Any) -> dict[str, Any]:
    if not isinstance(error, dict):
        return {"error": str(error)[:200]}
    failure = {key: error[key] for key in ("index", "_model", "id", "status", "error") if key in error}
    if isinstance(error.get("errors"), dict):
        failure["fields"] = sorted(str(name)[:100] for name in error["errors"])[:20]
    return failure


_file_lock = threading.Lock()


def log_file_for(day: date) -> Path:
    return conf.log_dir() / f"sb_sync-{day.isoformat()}.log"


def write_log_line(message: str, level: str = "INFO") -> None:
    """Append one line in the seed's format to today's file (and to the ``sbsync.sync`` logger, at the
    same level)."""
    now = timezone.localtime()
    line = f"{now:%Y-%m-%d %H:%M:%S} - sb_sync - {level} - {message}\n"
    logger.log(logging.getLevelName(level), message)
    try:
        path = log_file_for(now.date())
        path.parent.mkdir(parents=True, exist_ok=True)
        with _file_lock, path.open("a", encoding="utf-8") as handle:
            handle.write(line)
    except OSError:
        logger.exception("Cannot write the sync log file under %s", conf.log_dir())


def day_log_files(directory: Path | None = None) -> list[tuple[date, Path]]:
    """The day files in ``directory`` (LOG_DIR by default) with their day, oldest first."""
    directory = directory or conf.log_dir()
    if not directory.is_dir():
        return []
    found = []
    for path in directory.glob("sb_sync-*.log"):
        try:
            day = datetime.strptime(path.stem.removeprefix("sb_sync-"), "%Y-%m-%d").date()
        except ValueError:
            continue
        found.append((day, path))
    return sorted(found)
