"""Performance analysis of the recorded activity, with suggestions, and a snapshot of current resources."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import psutil
from django.db import connection
from django.utils import timezone
from huey.contrib.djhuey import HUEY

from sbsync.enums import Operation
from sbsync.models import PerformanceAnalysis, SyncLog
from sbsync.monitoring.stats import log_activity, log_timings, metrics_summary

# Past these figures a suggestion is made. Chosen for a server that should answer a sync request within
# a couple of seconds on modest hardware.
SLOW_P95_SECONDS = 2.0
LARGE_BATCH = 500
HIGH_MEMORY_MB = 512.0
QUERIES_PER_RECORD = 1.0
# Every request runs a fixed dozen or two queries (token, membership, configuration, logs), so queries per
# record only say something about batches large enough to hide that overhead.
QUERY_RATIO_MIN_BATCH = 50
ERROR_RATE = 0.05
MB = 1024 * 1024

logger = logging.getLogger("sbsync.performance")


def performance_summary(*, days: int) -> dict[str, Any]:
    """The figures of the last ``days`` days: request counts, request timings per operation, and the
    performance samples per operation type (sbsync/monitoring/stats.py)."""
    since = timezone.now() - timedelta(days=days)
    logs = SyncLog.objects.since(since)
    return {
        "since": since.isoformat(),
        "requests": log_activity(logs),
        "timings": {op: log_timings(logs.filter(operation=op)).as_dict() for op in Operation.values},
        "metrics": metrics_summary(since),
    }


def suggestions_for(summary: dict[str, Any], *, days: int) -> list[str]:
    """Plain sentences, each naming the figure that triggered it."""
    found: list[str] = []
    period = f"over the last {days} day{'s' if days != 1 else ''}"
    for op, timing in summary["timings"].items():
        if timing["count"] and timing["p95"] > SLOW_P95_SECONDS:
            found.append(
                f"{op} requests took {timing['p95']:.2f} s at the 95th percentile {period} (above "
                f"{SLOW_P95_SECONDS:g} s): ask clients for smaller batches, or look for slow models on the "
                "metrics page."
            )
    for op, figures in summary["metrics"].items():
        batch, memory = figures["average_batch_size"], figures["peak_memory_mb"]
        if batch > LARGE_BATCH and memory is not None and memory > HIGH_MEMORY_MB:
            found.append(
                f"{op} batches average {batch:.0f} records and memory peaked at {memory:.0f} MB (above "
                f"{HIGH_MEMORY_MB:g} MB with batches over {LARGE_BATCH}): lower MAX_PUSH_RECORDS or "
                "MAX_PULL_BATCH."
            )
        if batch >= QUERY_RATIO_MIN_BATCH and figures["average_query_count"] / batch > QUERIES_PER_RECORD:
            found.append(
                f"{op} runs {figures['average_query_count'] / batch:.1f} database queries per record "
                f"(above {QUERIES_PER_RECORD:g}): a model or data filter probably loads related rows one "
                "by one."
            )
    requests = summary["requests"]
    total = requests["pushes"] + requests["pulls"]
    if total and requests["errors"] / total > ERROR_RATE:
        found.append(
            f"{requests['errors'] / total:.0%} of sync requests failed {period} ({requests['errors']} of "
            f"{total}, above {ERROR_RATE:.0%}): see the error messages on the sync logs page."
        )
    return found


def analyze_performance(*, days: int) -> PerformanceAnalysis:
    """Store an analysis of the last ``days`` days: its figures and the suggestions they trigger.

    Side effects: inserts one PerformanceAnalysis row.
    """
    summary = performance_summary(days=days)
    return PerformanceAnalysis.objects.create(
        period_days=days, summary=summary, suggestions=suggestions_for(summary, days=days)
    )


def database_size() -> int | None:
    """The size of the database in bytes, where the backend can say."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_database_size(current_database())")
            return int(cursor.fetchone()[0])
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA page_count")
            pages = cursor.fetchone()[0]
            cursor.execute("PRAGMA page_size")
            return int(pages * cursor.fetchone()[0])
    return None


def queue_lengths() -> tuple[int | None, int | None]:
    """Queued and scheduled tasks, or (None, None) when the queue's storage cannot be reached."""
    try:
        return HUEY.pending_count(), HUEY.scheduled_count()
    except Exception:
        logger.warning("The task queue cannot be reached", exc_info=True)
        return None, None


def resource_snapshot() -> dict[str, Any]:
    """Current figures: this process's memory, the machine's memory use, the database size, the task
    queue's length (None when unreachable) and the sync throughput of the last hour."""
    hour = log_activity(SyncLog.objects.since(timezone.now() - timedelta(hours=1)))
    size = database_size()
    queued, scheduled = queue_lengths()
    return {
        "process_memory_mb": round(psutil.Process().memory_info().rss / MB, 1),
        "system_memory_percent": psutil.virtual_memory().percent,
        "database_size_mb": round(size / MB, 2) if size is not None else None,
        "queued_tasks": queued,
        "scheduled_tasks": scheduled,
        "last_hour": {**hour, "records_per_minute": round(hour["records"] / 60, 1)},
    }
