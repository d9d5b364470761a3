"""``GET health/`` (sbsync/docs/protocol.md section 6, public): is each service sbsync needs answering?

The answer names each check and says healthy or unhealthy, with a generic reason when it failed; what
failed and why in detail (hosts, paths, driver messages) goes to the server log only, so the public
endpoint reveals no configuration. 503 when any check failed, with the error shape's ``error`` and
``detail`` added, so a client that only reads errors still understands it.

Memory and performance are threshold checks (SBSYNC ``HEALTH_*``): past a threshold the check says
``warning`` and the status is ``degraded``, still 200 unless ``HEALTH_DEGRADED_STATUS`` is 503, since
a busy server that answers is not down. The figures go to the server log, not to the public answer.
"""

from __future__ import annotations

import logging
import os
import tempfile
import uuid
from collections.abc import Callable
from datetime import timedelta

import psutil
from django.core.cache import caches
from django.db import DatabaseError, connections, router
from django.db.models import Avg, Count, Q
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from huey.contrib import djhuey
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from sbsync import conf
from sbsync.api.decorators import sync_endpoint
from sbsync.enums import LogStatus
from sbsync.errors import error_body
from sbsync.models import SyncLog

HEALTHY, UNHEALTHY = "healthy", "unhealthy"
WARNING, DEGRADED = "warning", "degraded"
logger = logging.getLogger("sbsync.health")


class CheckFailed(Exception):
    """A check's generic reason, safe to show to anyone."""


class CheckWarning(Exception):
    """A threshold passed: the check's generic reason, safe to show to anyone; the figures are logged."""


def check_database() -> None:
    try:
        with connections[router.db_for_write(SyncLog)].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        raise CheckFailed("the database does not answer") from exc


def check_cache() -> None:
    cache = caches[conf.get("CACHE_ALIAS")]
    key, value = f"sbsync:health:{uuid.uuid4().hex}", uuid.uuid4().hex
    try:
        cache.set(key, value, 10)
        answered = cache.get(key)
        cache.delete(key)
    except Exception as exc:
        raise CheckFailed("the cache does not answer") from exc
    if answered != value:
        raise CheckFailed("the cache does not keep values")


def check_logging() -> None:
    try:
        directory = conf.log_dir()
        directory.mkdir(parents=True, exist_ok=True)
        # Write and flush a line, not just create a file: on a full disk creating an empty file can
        # still succeed while every write fails.
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".health-") as probe:
            probe.write(b"health check\n")
            probe.flush()
            os.fsync(probe.fileno())
    except Exception as exc:
        raise CheckFailed("the log directory is not writable") from exc


def check_task_queue() -> None:
    try:
        djhuey.HUEY.storage.queue_size()
    except Exception as exc:
        raise CheckFailed("the task queue does not answer") from exc


def check_memory() -> None:
    """The answering process's resident memory against HEALTH_MEMORY_MB."""
    rss_mb = psutil.Process(os.getpid()).memory_info().rss / (1024 * 1024)
    limit = conf.get("HEALTH_MEMORY_MB")
    if rss_mb > limit:
        raise CheckWarning("memory use is above the threshold") from CheckWarning(
            f"resident memory {rss_mb:.1f} MB > HEALTH_MEMORY_MB {limit}"
        )


def check_performance() -> None:
    """The sync operations of the last HEALTH_WINDOW_MINUTES: their mean time against
    HEALTH_SLOW_SECONDS and the share that failed against HEALTH_ERROR_RATE (one aggregate query)."""
    since = timezone.now() - timedelta(minutes=conf.get("HEALTH_WINDOW_MINUTES"))
    try:
        figures = SyncLog.objects.filter(timestamp__gte=since).aggregate(
            operations=Count("id"),
            failed=Count("id", filter=Q(status=LogStatus.ERROR)),
            mean_seconds=Avg("processing_time"),
        )
    except DatabaseError as exc:
        raise CheckWarning("the sync logs cannot be read") from exc
    if not figures["operations"]:
        return
    error_rate = figures["failed"] / figures["operations"]
    if error_rate > conf.get("HEALTH_ERROR_RATE"):
        raise CheckWarning("too many sync operations failed recently") from CheckWarning(
            f"{figures['failed']} of {figures['operations']} sync operations failed > HEALTH_ERROR_RATE"
        )
    if figures["mean_seconds"] > conf.get("HEALTH_SLOW_SECONDS"):
        raise CheckWarning("sync operations are slower than the threshold") from CheckWarning(
            f"mean {figures['mean_seconds']:.3f} s over {figures['operations']} operations > HEALTH_SLOW_SECONDS"
        )


CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "cache": check_cache,
    "logging": check_logging,
    "task_queue": check_task_queue,
    "memory": check_memory,
    "performance": check_performance,
}

HealthSchema = inline_serializer(
    "Health",
    {
        "status": serializers.CharField(
            help_text="healthy; degraded (a threshold check warns); unhealthy (a check failed)"
        ),
        "timestamp": serializers.DateTimeField(),
        "checks": serializers.DictField(
            child=serializers.CharField(),
            help_text="database, cache, logging, task_queue: healthy or unhealthy; memory, performance: "
            "healthy or warning",
        ),
        "reasons": serializers.DictField(
            child=serializers.CharField(),
            required=False,
            help_text="Why a check failed or warns, in general terms",
        ),
        "error": serializers.CharField(required=False),
        "detail": serializers.CharField(required=False),
    },
)


@extend_schema(
    summary="Health of the database, cache, log directory, task queue, memory and performance",
    auth=[],
    responses={
        200: HealthSchema,
        503: OpenApiResponse(
            HealthSchema,
            description="At least one check failed (or warns, with HEALTH_DEGRADED_STATUS 503)",
        ),
    },
    tags=["monitoring"],
)
@sync_endpoint(["GET"], public=True)
def health(request: Request) -> Response:
    checks, reasons, warnings = {}, {}, {}
    for name, check in CHECKS.items():
        try:
            check()
        except CheckFailed as exc:
            logger.warning("Health check %s failed: %s", name, exc.__cause__ or exc)
            checks[name], reasons[name] = UNHEALTHY, str(exc)
        except CheckWarning as exc:
            logger.warning("Health check %s warns: %s", name, exc.__cause__ or exc)
            checks[name], warnings[name] = WARNING, str(exc)
        else:
            checks[name] = HEALTHY
    status = UNHEALTHY if reasons else DEGRADED if warnings else HEALTHY
    body = {"status": status, "timestamp": timezone.now(), "checks": checks}
    if reasons:
        failed = ", ".join(reasons)
        body |= {"reasons": reasons | warnings, **error_body("unhealthy", f"Failed checks: {failed}.")}
        return Response(body, status=503)
    if warnings:
        body["reasons"] = warnings
        code = conf.get("HEALTH_DEGRADED_STATUS")
        if code == 503:
            body |= error_body("degraded", f"Checks past their threshold: {', '.join(warnings)}.")
        return Response(body, status=code)
    return Response(body, status=200)
