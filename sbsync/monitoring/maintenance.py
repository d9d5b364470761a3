"""Housekeeping: retention of logs and metrics, expired records, stale cache entries, table statistics.

Called by the periodic tasks (sbsync/tasks.py) and by the ``cleanup_sync_logs`` and
``optimize_performance`` commands, so both do exactly the same thing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from django.apps import apps
from django.db import connection
from django.utils import timezone
from knox.models import get_token_model
from simple_history.utils import get_history_model_for_model

from sbsync import cache, conf, discovery
from sbsync.models import IdempotencyRecord, PerformanceAnalysis, PerformanceMetrics, SyncLog
from sbsync.monitoring.audit import keeps_history
from sbsync.sync.activity import LOG_FILE_DAYS, day_log_files
from sbsync.sync.changes.index import compact_tombstones
from sbsync.sync.watermelon.timestamps import purge_checkpoints


@dataclass(frozen=True)
class LogCleanup:
    rows: int
    files: list[str]


@dataclass(frozen=True)
class Purge:
    idempotency_records: int
    tokens: int
    cache_entries: int


@dataclass(frozen=True)
class Optimization:
    statements: list[str]
    skipped: list[str] = field(default_factory=list)


def retention_cutoff(setting: conf.RetentionSetting, *, now: datetime) -> datetime:
    """``now`` minus the number of days of a ``*_RETENTION_DAYS`` setting."""
    return now - timedelta(days=conf.get(setting))


def expired_log_files(directory: Path, *, before: datetime) -> list[Path]:
    """Day log files (``sb_sync-YYYY-MM-DD.log``) in ``directory`` of days before ``before``, or more than
    LOG_FILE_DAYS old, whichever cut is later: the files are kept 30 days, as the seed's logs were."""
    cutoff = max(timezone.localtime(before).date(), timezone.localdate() - timedelta(days=LOG_FILE_DAYS))
    return [path for day, path in day_log_files(directory) if day < cutoff]


def cleanup_sync_logs(
    *, before: datetime, directory: Path | None = None, dry_run: bool = False
) -> LogCleanup:
    """Delete sync logs written before ``before``, and the expired day log files in ``directory`` (LOG_DIR
    by default). With ``dry_run`` nothing is deleted; the result says what would be.

    Side effects: deletes SyncLog rows and files.
    """
    logs = SyncLog.objects.older_than(before)
    files = expired_log_files(directory or conf.log_dir(), before=before)
    if dry_run:
        return LogCleanup(rows=logs.count(), files=[str(path) for path in files])
    rows, _ = logs.delete()
    removed = []
    for path in files:
        # Another cleanup (the task and the command) may have removed it first.
        path.unlink(missing_ok=True)
        removed.append(str(path))
    return LogCleanup(rows=rows, files=removed)


def cleanup_metrics(*, before: datetime) -> int:
    """Delete performance samples and stored analyses older than ``before``. Returns the rows deleted."""
    samples, _ = PerformanceMetrics.objects.older_than(before).delete()
    analyses, _ = PerformanceAnalysis.objects.filter(created_at__lt=before).delete()
    return samples + analyses


def purge_expired(*, now: datetime) -> Purge:
    """Delete what has expired by ``now``: idempotency records past their ``expires_at``, API tokens past
    their expiry (knox deletes an expired token only when someone presents it), and configuration cache
    entries of old generations (see sbsync/cache.py for what a purge can reach).

    Side effects: deletes IdempotencyRecord and knox token rows, and cache entries.
    """
    idempotency, _ = IdempotencyRecord.objects.expired(now).delete()
    token_model = get_token_model()
    _, per_model = token_model.objects.filter(expiry__lt=now).delete()
    return Purge(
        idempotency_records=idempotency,
        tokens=per_model.get(token_model._meta.label, 0),
        cache_entries=cache.purge_stale(cache.generation()),
    )


def cleanup_all(*, now: datetime) -> dict[str, int]:
    """Everything past its retention at ``now``: sync logs (LOG_RETENTION_DAYS) and day log files (30 days),
    metrics and analyses (METRICS_RETENTION_DAYS), tombstones and WatermelonDB checkpoints
    (TOMBSTONE_RETENTION_DAYS), and what ``purge_expired`` removes. Returns how many of each were deleted."""
    logs = cleanup_sync_logs(before=retention_cutoff("LOG_RETENTION_DAYS", now=now))
    metrics = cleanup_metrics(before=retention_cutoff("METRICS_RETENTION_DAYS", now=now))
    tombstone_cutoff = retention_cutoff("TOMBSTONE_RETENTION_DAYS", now=now)
    tombstones = compact_tombstones(older_than=tombstone_cutoff)
    checkpoints = purge_checkpoints(older_than=tombstone_cutoff)
    purged = purge_expired(now=now)
    return {
        "sync_logs": logs.rows,
        "log_files": len(logs.files),
        "metrics": metrics,
        "tombstones": tombstones,
        "watermelon_checkpoints": checkpoints,
        **asdict(purged),
    }


def optimized_tables() -> list[str]:
    """The tables worth analysing: sbsync's own (logs, change index, history) and those of synced models
    and of their audit history."""
    synced = discovery.enabled_models()
    histories = [get_history_model_for_model(m) for m in synced if keeps_history(m)]
    models = [*apps.get_app_config("sbsync").get_models(), *synced, *histories]
    return sorted({model._meta.db_table for model in models if model._meta.managed and not model._meta.proxy})


def optimization_plan(*, vacuum: bool) -> Optimization:
    """The statements ``optimize_tables`` would run on this database, and what it would skip and why.

    VACUUM cannot run inside a transaction, so it is skipped (and only ANALYZE runs) when called inside
    ``transaction.atomic()``.
    """
    quote = connection.ops.quote_name
    tables = optimized_tables()
    vendor = connection.vendor
    can_vacuum = vacuum and not connection.in_atomic_block
    skipped = ["VACUUM: not possible inside a transaction"] if vacuum and not can_vacuum else []
    if vendor == "postgresql":
        verb = "VACUUM (ANALYZE)" if can_vacuum else "ANALYZE"
        return Optimization([f"{verb} {quote(table)}" for table in tables], skipped)
    if vendor == "sqlite":
        statements = [f"ANALYZE {quote(table)}" for table in tables] + ["PRAGMA optimize"]
        return Optimization(statements + (["VACUUM"] if can_vacuum else []), skipped)
    return Optimization([], [f"no table optimization is known for {vendor}"])


def optimize_tables(*, vacuum: bool) -> Optimization:
    """Refresh the planner statistics of ``optimized_tables()`` (ANALYZE; ``PRAGMA optimize`` on SQLite)
    and, with ``vacuum``, reclaim space (VACUUM). Returns what ran and what was skipped."""
    plan = optimization_plan(vacuum=vacuum)
    with connection.cursor() as cursor:
        for statement in plan.statements:
            cursor.execute(statement)
    return plan
