"""Huey tasks: thin wrappers that call one function of sbsync/sync/ (or access.py) and log what it did.

``manage.py run_huey`` loads this module and runs the periodic ones on the schedule below (times in the
consumer's TIME_ZONE). Each periodic task holds a lock while it runs, so a run that overlaps the previous
one is skipped (Huey logs ``TaskLockedException``) instead of doing the same work twice.

=========================  ======================  =====================================================
task                       schedule                effect
=========================  ======================  =====================================================
cleanup_old_sync_logs      daily 03:00             sync logs past LOG_RETENTION_DAYS, day log files past 30 days,
                                                   metrics and analyses past METRICS_RETENTION_DAYS
compact_old_tombstones     daily 03:30             tombstones past TOMBSTONE_RETENTION_DAYS, and WatermelonDB
                                                   checkpoints as old
generate_sync_report       daily 00:30             yesterday's statistics per organization and model
optimize_database_tables   Sundays 04:00           ANALYZE and VACUUM of sbsync's and synced tables
cache_warmup               every 5 minutes         permissions, filters and discovery into the cache
memory_optimization        hourly at :45           expired idempotency records and tokens, stale cache
performance_analysis       hourly at :15           analysis of the last 7 days, with suggestions
bulk_sync_operation        on demand               an async push job (``"async": true``), queued on commit
=========================  ======================  =====================================================
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import timedelta
from typing import Any

from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task, on_commit_task

from sbsync import access
from sbsync.monitoring import maintenance, performance, reports
from sbsync.sync.changes.index import compact_tombstones
from sbsync.sync.push.jobs import run_push_job
from sbsync.sync.watermelon.timestamps import purge_checkpoints

logger = logging.getLogger("sbsync.tasks")

ANALYSIS_DAYS = 7


@db_periodic_task(crontab(minute="0", hour="3"))
@lock_task("sbsync-cleanup-old-sync-logs")
def cleanup_old_sync_logs() -> dict[str, Any]:
    now = timezone.now()
    logs = maintenance.cleanup_sync_logs(before=maintenance.retention_cutoff("LOG_RETENTION_DAYS", now=now))
    metrics = maintenance.cleanup_metrics(
        before=maintenance.retention_cutoff("METRICS_RETENTION_DAYS", now=now)
    )
    logger.info(
        "cleanup_old_sync_logs: deleted %d sync logs, %d log files and %d metric rows",
        logs.rows,
        len(logs.files),
        metrics,
    )
    return {"sync_logs": logs.rows, "log_files": logs.files, "metrics": metrics}


@db_periodic_task(crontab(minute="30", hour="3"))
@lock_task("sbsync-compact-old-tombstones")
def compact_old_tombstones() -> int:
    cutoff = maintenance.retention_cutoff("TOMBSTONE_RETENTION_DAYS", now=timezone.now())
    removed = compact_tombstones(older_than=cutoff)
    # WatermelonDB checkpoints share the horizon: older positions would be refused anyway.
    checkpoints = purge_checkpoints(older_than=cutoff)
    logger.info(
        "compact_old_tombstones: removed %d tombstones and %d WatermelonDB checkpoints", removed, checkpoints
    )
    return removed


@db_periodic_task(crontab(minute="30", hour="0"))
@lock_task("sbsync-generate-sync-report")
def generate_sync_report() -> int:
    day = timezone.localdate() - timedelta(days=1)
    rows = reports.generate_sync_report(day=day)
    logger.info("generate_sync_report: stored %d report rows for %s", rows, day.isoformat())
    return rows


@db_periodic_task(crontab(minute="0", hour="4", day_of_week="0"))
@lock_task("sbsync-optimize-database-tables")
def optimize_database_tables() -> list[str]:
    result = maintenance.optimize_tables(vacuum=True)
    logger.info(
        "optimize_database_tables: ran %d statements%s",
        len(result.statements),
        f"; skipped {'; '.join(result.skipped)}" if result.skipped else "",
    )
    return result.statements


@db_periodic_task(crontab(minute="*/5"))
@lock_task("sbsync-cache-warmup")
def cache_warmup() -> int:
    pairs = access.warm_cache()
    logger.info("cache_warmup: cached discovery and the permissions and filters of %d group(s)", pairs)
    return pairs


@db_periodic_task(crontab(minute="45"))
@lock_task("sbsync-memory-optimization")
def memory_optimization() -> dict[str, int]:
    purged = maintenance.purge_expired(now=timezone.now())
    logger.info(
        "memory_optimization: purged %d idempotency records, %d expired tokens, %d stale cache entries",
        purged.idempotency_records,
        purged.tokens,
        purged.cache_entries,
    )
    return asdict(purged)


@db_periodic_task(crontab(minute="15"))
@lock_task("sbsync-performance-analysis")
def performance_analysis() -> int:
    analysis = performance.analyze_performance(days=ANALYSIS_DAYS)
    logger.info(
        "performance_analysis: stored analysis %d of %d days with %d suggestion(s)",
        analysis.pk,
        ANALYSIS_DAYS,
        len(analysis.suggestions),
    )
    return analysis.pk


# Enqueued when the request's transaction commits: the consumer must find the SyncJob row.
@on_commit_task()
def bulk_sync_operation(*, job_id: int) -> str | None:
    """Run an async push job (``"async": true``)."""
    status = run_push_job(job_id=job_id)
    if status is None:
        logger.info("bulk_sync_operation: job %s is gone or already taken", job_id)
    else:
        logger.info("bulk_sync_operation: job %s %s", job_id, status)
    return status
