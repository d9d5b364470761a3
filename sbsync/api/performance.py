"""``GET performance/`` (sbsync/docs/protocol.md section 6, staff only): figures over the recorded PerformanceMetrics.

Every number is measured, none estimated:

* ``operations``: per operation type over the last ``days`` (default 7): count, average and percentile
  processing times, average batch size and query count, peak memory (monitoring/stats.py, shared with the UI).
* ``cache_stats``: hits and misses of the configuration cache (permissions, filters, discovery) counted
  by the server process that answered, since it started; with several worker processes each has its own
  counts. The hit rate is null until there has been a lookup.
* ``current_memory_usage``: resident memory of the answering process, in MB.
* ``throughput``: records moved per second of processing over the last hour, per operation; refused
  requests (status ERROR) are counted as ``refused`` and left out of records and records per second.
* ``optimization_suggestions``: those of the latest performance analysis (the ``performance_analysis``
  task), or none when no analysis has run yet.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Count, Q, Sum
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from sbsync import cache
from sbsync.api.decorators import sync_endpoint
from sbsync.api.schema import ErrorResponse
from sbsync.enums import LogStatus
from sbsync.errors import ProtocolError
from sbsync.models import PerformanceAnalysis, PerformanceMetrics
from sbsync.monitoring.stats import metrics_summary
from sbsync.sync.activity import memory_mb

DEFAULT_DAYS = 7
MAX_DAYS = 366
THROUGHPUT_WINDOW = timedelta(hours=1)

PerformanceSchema = inline_serializer(
    "Performance",
    {
        "period_days": serializers.IntegerField(),
        "since": serializers.DateTimeField(),
        "performance_stats": inline_serializer(
            "PerformanceStats",
            {
                "total_operations": serializers.IntegerField(),
                "average_processing_time": serializers.FloatField(help_text="Seconds"),
                "cache_hit_rate": serializers.FloatField(allow_null=True),
            },
        ),
        "operations": serializers.DictField(
            child=serializers.DictField(),
            help_text="Per operation: count, average, p50, p95, maximum (seconds), average_batch_size, average_query_count, peak_memory_mb",
        ),
        "cache_stats": inline_serializer(
            "CacheStats",
            {
                "cache_hits": serializers.IntegerField(),
                "cache_misses": serializers.IntegerField(),
                "cache_hit_rate": serializers.FloatField(allow_null=True),
                "counted_by": serializers.CharField(),
            },
        ),
        "current_memory_usage": serializers.FloatField(help_text="MB, the answering server process"),
        "throughput": serializers.DictField(
            child=serializers.DictField(),
            help_text="Last hour, per operation: operations, refused (status error), records (records "
            "applied: a push's records that succeeded, none of a dry run or a refused request; a pull's "
            "records sent) and records_per_second (records over the processing seconds of the requests "
            "not refused; null when every one was refused)",
        ),
        "optimization_suggestions": serializers.ListField(child=serializers.JSONField()),
        "analysis_at": serializers.DateTimeField(allow_null=True),
    },
)


def _days(request: Request) -> int:
    raw = request.query_params.get("days", str(DEFAULT_DAYS))
    # isdigit() alone admits "²" (int() refuses it: a 500) and other scripts' digits.
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_DAYS:
        message = f"days must be a whole number between 1 and {MAX_DAYS}."
        raise ProtocolError(400, "validation_error", message, {"days": [message]})
    return int(raw)


def throughput(window: timedelta = THROUGHPUT_WINDOW) -> dict[str, dict[str, Any]]:
    """Per operation over the last ``window``: operations, those refused, and the records applied and
    records per processing second of the others (a refused request moved no records; a partial push of 10
    with 3 refused moved 7)."""
    worked = ~Q(status=LogStatus.ERROR)
    rows = (
        PerformanceMetrics.objects.since(timezone.now() - window)
        .values("operation_type")
        .annotate(
            operations=Count("pk"),
            refused=Count("pk", filter=~worked),
            records=Sum("records_applied", filter=worked),
            seconds=Sum("processing_time", filter=worked),
        )
        .order_by("operation_type")
    )
    return {
        row["operation_type"]: {
            "operations": row["operations"],
            "refused": row["refused"],
            "records": row["records"] or 0,
            "records_per_second": round((row["records"] or 0) / row["seconds"], 1)
            if row["seconds"]
            else None,
        }
        for row in rows
    }


def performance_report(days: int) -> dict[str, Any]:
    since = timezone.now() - timedelta(days=days)
    operations = metrics_summary(since)
    total = sum(op["count"] for op in operations.values())
    average = sum(op["average"] * op["count"] for op in operations.values()) / total if total else 0.0
    counts = cache.lookup_counts()
    lookups = counts["hits"] + counts["misses"]
    hit_rate = round(counts["hits"] / lookups, 4) if lookups else None
    analysis = PerformanceAnalysis.objects.order_by("-created_at").first()
    return {
        "period_days": days,
        "since": since,
        "performance_stats": {
            "total_operations": total,
            "average_processing_time": average,
            "cache_hit_rate": hit_rate,
        },
        "operations": operations,
        "cache_stats": {
            "cache_hits": counts["hits"],
            "cache_misses": counts["misses"],
            "cache_hit_rate": hit_rate,
            "counted_by": "this server process, since it started (configuration cache lookups)",
        },
        "current_memory_usage": round(memory_mb(), 1),
        "throughput": throughput(),
        "optimization_suggestions": list(analysis.suggestions) if analysis else [],
        "analysis_at": analysis.created_at if analysis else None,
    }


@extend_schema(
    summary="Operation counts, timings, cache hit rate, memory and suggestions (staff only)",
    parameters=[
        OpenApiParameter(
            "days",
            {"type": "integer", "minimum": 1, "maximum": MAX_DAYS},
            description=f"Period of the figures, 1 to {MAX_DAYS} (default {DEFAULT_DAYS})",
        )
    ],
    responses={
        200: PerformanceSchema,
        400: OpenApiResponse(ErrorResponse, description="Bad days"),
        401: OpenApiResponse(ErrorResponse, description="No valid token"),
        403: OpenApiResponse(ErrorResponse, description="Not a staff user"),
        429: OpenApiResponse(ErrorResponse, description="Too many requests with this token (Retry-After)"),
    },
    tags=["monitoring"],
)
@sync_endpoint(["GET"])
def performance(request: Request) -> Response:
    if not (request.user.is_staff and request.user.has_perm("sbsync.view_performancemetrics")):
        raise ProtocolError(
            403,
            "forbidden",
            "Only staff users with the permission sbsync.view_performancemetrics may read performance figures.",
        )
    return Response(performance_report(_days(request)))
