"""Figures over recorded sync activity: counts, averages and percentiles of processing time.

Shared by the dashboard, the metrics page, the ``performance/`` endpoint and the analysis task, so the
same numbers appear everywhere.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from django.db.models import Avg, Count, Max, Q, QuerySet, Sum

from sbsync.enums import LogStatus, Operation
from sbsync.models import PerformanceMetrics, SyncLog


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending list (0.0 when empty): the value at rank
    ceil(fraction * n), counting from 1."""
    if not sorted_values:
        return 0.0
    # The epsilon keeps float error (0.07 * 100 = 7.000000000000001) from moving the rank up by one.
    rank = math.ceil(fraction * len(sorted_values) - 1e-9)
    return sorted_values[min(max(rank, 1), len(sorted_values)) - 1]


@dataclass(frozen=True)
class TimingSummary:
    count: int
    average: float
    p50: float
    p95: float
    maximum: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def timing_summary(values: list[float]) -> TimingSummary:
    ordered = sorted(values)
    return TimingSummary(
        count=len(ordered),
        average=sum(ordered) / len(ordered) if ordered else 0.0,
        p50=percentile(ordered, 0.50),
        p95=percentile(ordered, 0.95),
        maximum=ordered[-1] if ordered else 0.0,
    )


def log_activity(logs: QuerySet[SyncLog]) -> dict[str, int]:
    """Pushes, pulls, errors and records moved among ``logs`` (one aggregate query). Records moved are
    those applied, as throughput counts them (PerformanceMetrics.records_applied): a push's records that
    succeeded (a partial push of 10 with 3 refused moved 7), none of a dry run's, a pull's records sent;
    a refused request (ERROR) moved none of the records it sent, so it counts among errors only."""
    worked = ~Q(status=LogStatus.ERROR)
    figures = logs.aggregate(
        pushes=Count("pk", filter=Q(operation=Operation.PUSH)),
        pulls=Count("pk", filter=Q(operation=Operation.PULL)),
        errors=Count("pk", filter=Q(status=LogStatus.ERROR)),
        records=Sum("success_count", filter=worked, default=0),
        # A dry run reports the records that would succeed; it wrote none.
        rehearsed=Sum("success_count", filter=worked & Q(request_data__dry_run=True), default=0),
    )
    figures["records"] -= figures.pop("rehearsed")
    return figures


def log_timings(logs: QuerySet[SyncLog]) -> TimingSummary:
    return timing_summary(list(logs.values_list("processing_time", flat=True)))


def metrics_summary(since: datetime | None = None) -> dict[str, Any]:
    """Per operation type: count, timing percentiles, average batch size, queries and memory (two
    queries, whatever the number of operation types)."""
    metrics = PerformanceMetrics.objects.all()
    if since is not None:
        metrics = metrics.since(since)
    times: dict[str, list[float]] = defaultdict(list)
    for op, seconds in metrics.order_by().values_list("operation_type", "processing_time"):
        times[op].append(seconds)
    result: dict[str, Any] = {}
    for row in (
        metrics.values("operation_type")
        .annotate(batch=Avg("batch_size"), queries=Avg("query_count"), memory=Max("memory_usage"))
        .order_by("operation_type")
    ):
        op = row["operation_type"]
        result[op] = {
            **timing_summary(times[op]).as_dict(),
            "average_batch_size": row["batch"] or 0.0,
            "average_query_count": row["queries"] or 0.0,
            "peak_memory_mb": row["memory"],
        }
    return result
