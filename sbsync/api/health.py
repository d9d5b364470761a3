"""``GET health/`` (sbsync/docs/protocol.md section 6, public): is each service sbsync needs answering?

The answer names each check and says healthy or unhealthy, with a generic reason when it failed; what
failed and why in detail (hosts, paths, driver messages) goes to the server log only, so the public
endpoint reveals no configuration. 503 when any check failed, with the error shape's ``error`` and
``detail`` added, so a client that only reads errors still understands it.
"""

from __future__ import annotations

import logging
import tempfile
import uuid
from collections.abc import Callable

from django.core.cache import caches
from django.db import connections, router
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from huey.contrib import djhuey
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from sbsync import conf
from sbsync.api.decorators import sync_endpoint
from sbsync.errors import error_body
from sbsync.models import SyncLog

HEALTHY, UNHEALTHY = "healthy", "unhealthy"
logger = logging.getLogger("sbsync.health")


class CheckFailed(Exception):
    """A check's generic reason, safe to show to anyone."""


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
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".health-"):
            pass
    except Exception as exc:
        raise CheckFailed("the log directory is not writable") from exc


def check_task_queue() -> None:
    try:
        djhuey.HUEY.storage.queue_size()
    except Exception as exc:
        raise CheckFailed("the task queue does not answer") from exc


CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "cache": check_cache,
    "logging": check_logging,
    "task_queue": check_task_queue,
}

HealthSchema = inline_serializer(
    "Health",
    {
        "status": serializers.CharField(help_text="healthy or unhealthy"),
        "timestamp": serializers.DateTimeField(),
        "checks": serializers.DictField(
            child=serializers.CharField(),
            help_text="database, cache, logging, task_queue: healthy or unhealthy",
        ),
        "reasons": serializers.DictField(
            child=serializers.CharField(), required=False, help_text="Why a check failed, in general terms"
        ),
        "error": serializers.CharField(required=False),
        "detail": serializers.CharField(required=False),
    },
)


@extend_schema(
    summary="Health of the database, cache, log directory and task queue",
    auth=[],
    responses={
        200: HealthSchema,
        503: OpenApiResponse(HealthSchema, description="At least one check failed"),
    },
    tags=["monitoring"],
)
@sync_endpoint(["GET"], public=True)
def health(request: Request) -> Response:
    checks, reasons = {}, {}
    for name, check in CHECKS.items():
        try:
            check()
        except CheckFailed as exc:
            logger.warning("Health check %s failed: %s", name, exc.__cause__ or exc)
            checks[name], reasons[name] = UNHEALTHY, str(exc)
        else:
            checks[name] = HEALTHY
    body = {"status": UNHEALTHY if reasons else HEALTHY, "timestamp": timezone.now(), "checks": checks}
    if reasons:
        failed = ", ".join(reasons)
        body |= {"reasons": reasons, **error_body("unhealthy", f"Failed checks: {failed}.")}
    return Response(body, status=503 if reasons else 200)
