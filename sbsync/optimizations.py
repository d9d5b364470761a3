"""sb-sync's ``sb_sync.optimizations`` helpers, for server-side code, each doing its work through sbsync's
own machinery (README "Performance"; what each does is in sbsync/docs/architecture.md)::

    from sbsync.optimizations import BulkOperations, CacheOptimizer, MemoryOptimizer, ModelMetadataCache, QueryOptimizer

- ``BulkOperations.bulk_create_or_update``: upserts through the push engine, so rows get history,
  change-index entries and versions, and reach clients on their next pull.
- ``ModelMetadataCache.get_model_fields``: the field description ``GET models/`` serves, cached under
  the configuration's generation (a permission, filter or discovery change invalidates it).
- ``QueryOptimizer``: the sync logs a user may see with their relations loaded; a decorator that logs the
  queries of a call and their time.
- ``MemoryOptimizer``: resident and peak memory; a decorator that logs them around a call.
- ``CacheOptimizer``: get-or-set and set on Django's cache (``CACHE_ALIAS``), under an sbsync namespace.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import resource
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any, ParamSpec, TypeVar

import psutil
from django.core.cache import caches
from django.db import connections, models
from django.db.models import QuerySet

from sbsync import cache as config_cache
from sbsync import conf, discovery
from sbsync.access import Access, server_access
from sbsync.enums import RecordStatus
from sbsync.legacy_names import model_label_hint
from sbsync.models import ConfigGeneration, Membership, Organization, SyncLog
from sbsync.sync.push.apply import apply_push
from sbsync.sync.push.items import SUCCESS, PushResult
from sbsync.sync.push.locks import retrying

logger = logging.getLogger("sbsync.optimizations")

P = ParamSpec("P")
R = TypeVar("R")

OUTCOMES = tuple(RecordStatus.values)
DATA_NAMESPACE = "sbsync:data:"


class BulkOperations:
    @staticmethod
    def bulk_create_or_update(
        model_class: type[models.Model],
        data_list: list[dict[str, Any]],
        batch_size: int = 1000,
        *,
        organization: Organization | None = None,
        user: Any = None,
    ) -> dict[str, Any]:
        """Create or update ``data_list`` (one dict of field values per row; a row with its primary key
        updates that row, or creates it with that key) through the push engine, ``batch_size`` rows per
        transaction. A row fails alone, as in a push: the others are written.

        The rows belong to ``organization``; without it, each row names its own (the tenant field's id).
        The writes are the server's own: every enabled tenant model, no row filters, never a row of
        another organization. ``user`` is who the history records them as made by.

        Returns the count of each outcome (``created``, ``updated``, ``unchanged``, ``conflict``,
        ``rejected``, ``forbidden``...), ``errors`` (how many failed) and ``error_details``: for each
        failed row, its index in ``data_list``, its status and its field errors."""
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, not {batch_size!r}.")
        label = model_class._meta.label
        groups, details = _by_organization(model_class, data_list, organization)
        counts = Counter(detail["status"] for detail in details)
        for owner, indexes in groups.items():
            access = server_access(owner, user=user)
            for start in range(0, len(indexes), batch_size):
                chunk = indexes[start : start + batch_size]
                # One transaction per batch, retried as a whole after a PostgreSQL deadlock.
                result = retrying(
                    functools.partial(_push, access, [{**data_list[i], "_model": label} for i in chunk])
                )
                for index, answer in zip(chunk, result.results, strict=True):
                    counts[answer["status"]] += 1
                    if answer["status"] not in SUCCESS:
                        extra: dict[str, Any] = {k: answer[k] for k in ("errors", "server") if k in answer}
                        details.append({"index": index, "status": answer["status"], **extra})
        details.sort(key=lambda detail: int(detail["index"]))
        return {
            **{outcome: counts[outcome] for outcome in OUTCOMES},
            "errors": len(details),
            "error_details": details,
        }


def _push(access: Access, records: list[dict[str, Any]]) -> PushResult:
    return apply_push(access=access, records=records)


def _by_organization(
    model_class: type[models.Model],
    data_list: list[dict[str, Any]],
    organization: Organization | None,
) -> tuple[dict[Organization, list[int]], list[dict[str, Any]]]:
    """The indexes of ``data_list`` per owning organization (``organization``, or each row's own by its
    tenant field), and the rows that name none or one that does not exist, rejected."""
    if organization is not None:
        return {organization: list(range(len(data_list)))}, []
    tenant = discovery.tenant_field(model_class)
    if tenant is None:
        raise ValueError(f"{model_class._meta.label} has no tenant field: pass organization=.")
    wanted = {i: row.get(tenant.name, row.get(tenant.attname)) for i, row in enumerate(data_list)}
    found = Organization.objects.in_bulk([pk for pk in wanted.values() if isinstance(pk, int)])
    groups: dict[Organization, list[int]] = {}
    rejected: list[dict[str, Any]] = []
    message = f"Give the row's {tenant.name} (an organization id), or pass organization=."
    for index, pk in wanted.items():
        owner = found.get(pk) if isinstance(pk, int) else None
        if owner is None:
            rejected.append(
                {"index": index, "status": RecordStatus.REJECTED.value, "errors": {tenant.name: [message]}}
            )
        else:
            groups.setdefault(owner, []).append(index)
    return groups, rejected


class ModelMetadataCache:
    @staticmethod
    def get_model_fields(model_name: str) -> dict[str, dict[str, Any]]:
        """The fields of the enabled model ``model_name`` (``app_label.ModelName``, any case) as ``GET
        models/`` describes them, by field name. Cached under the configuration's generation and the
        settings that shape it, so a change of either is seen at once. LookupError for a model that is
        not enabled for sync."""
        model = discovery.get_sync_model(model_name)
        if model is None:
            raise LookupError(
                f"{model_name!r} is not a model enabled for sync (show_models --action all explains why)."
                f"{model_label_hint(model_name)}"
            )
        shaping = json.dumps(
            [conf.get("READ_ONLY_FIELDS"), conf.get("TENANT_FIELD"), discovery.settings_config().as_dict()],
            sort_keys=True,
            default=str,
        )
        key = f"model-fields:{model._meta.label_lower}:{hashlib.sha256(shaping.encode()).hexdigest()[:12]}"
        fields: list[dict[str, Any]] = config_cache.get_or_compute(
            config_cache.generation(), key, lambda: discovery.describe_model(model)["fields"]
        )
        return {field["name"]: field for field in fields}

    @staticmethod
    def invalidate_model_cache() -> None:
        """Drop the cached descriptions (of every model: the cache is keyed by the configuration's
        generation, which this moves on, as any configuration change does)."""
        ConfigGeneration.bump()


class QueryOptimizer:
    @staticmethod
    def get_optimized_sync_logs(user: Any, organization: Organization, limit: int = 100) -> QuerySet[SyncLog]:
        """The newest ``limit`` sync logs of ``organization`` that ``user`` may see, with their user and
        organization loaded (one query however many logs): every log of the organization for a staff
        user, a member's own logs for an active member, none for anyone else."""
        logs = SyncLog.objects.for_tenant(organization).select_related("user", "organization")
        if not getattr(user, "is_staff", False):
            if not Membership.objects.for_user(user).active().filter(organization=organization).exists():
                return logs.none()
            logs = logs.filter(user=user)
        return logs.order_by("-timestamp", "-pk")[:limit]

    @staticmethod
    def count_queries(func: Callable[P, R]) -> Callable[P, R]:
        """Log (``sbsync.optimizations``, INFO) how many database queries the decorated call ran, on every
        connection, and how long they took."""

        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            with _counting_queries() as tally:
                result = func(*args, **kwargs)
            logger.info(
                "%s ran %d queries in %.1f ms", func.__qualname__, tally["count"], tally["seconds"] * 1000
            )
            return result

        return wrapper


@contextmanager
def _counting_queries() -> Iterator[dict[str, Any]]:
    tally: dict[str, Any] = {"count": 0, "seconds": 0.0}

    def wrapper(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            tally["count"] += 1
            tally["seconds"] += time.perf_counter() - start

    with ExitStack() as stack:
        for connection in connections.all(initialized_only=True):
            stack.enter_context(connection.execute_wrapper(wrapper))
        yield tally


class MemoryOptimizer:
    @staticmethod
    def get_memory_usage() -> float:
        """This process's resident memory (RSS), in MB."""
        return float(psutil.Process(os.getpid()).memory_info().rss) / (1024 * 1024)

    @staticmethod
    def get_peak_memory_usage() -> float:
        """This process's peak resident memory since it started, in MB."""
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return float(peak) / (1024 * 1024 if sys.platform == "darwin" else 1024)

    @staticmethod
    def monitor_memory(func: Callable[P, R]) -> Callable[P, R]:
        """Log (``sbsync.optimizations``, INFO) the process's resident and peak memory before and after
        the decorated call."""

        @functools.wraps(func)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            rss, peak = MemoryOptimizer.get_memory_usage(), MemoryOptimizer.get_peak_memory_usage()
            result = func(*args, **kwargs)
            rss_after, peak_after = (
                MemoryOptimizer.get_memory_usage(),
                MemoryOptimizer.get_peak_memory_usage(),
            )
            logger.info(
                "%s: memory %.1f → %.1f MB (%+.1f), peak %.1f → %.1f MB",
                func.__qualname__,
                rss,
                rss_after,
                rss_after - rss,
                peak,
                peak_after,
            )
            return result

        return wrapper


class CacheOptimizer:
    @staticmethod
    def get_or_set_cache(key: str, callback: Callable[[], Any], timeout: int | None = 3600) -> Any:
        """The value cached under ``key`` in sbsync's namespace of the ``CACHE_ALIAS`` cache, or
        ``callback()``, cached for ``timeout`` seconds (None: no expiry)."""
        return caches[conf.get("CACHE_ALIAS")].get_or_set(DATA_NAMESPACE + key, callback, timeout)

    @staticmethod
    def cache_model_data(key: str, data: Any, timeout: int | None = 1800) -> None:
        """Cache ``data`` under ``key`` in sbsync's namespace for ``timeout`` seconds."""
        caches[conf.get("CACHE_ALIAS")].set(DATA_NAMESPACE + key, data, timeout)

    @staticmethod
    def get_cached_model_data(key: str) -> Any:
        """What ``cache_model_data`` stored under ``key``, or None."""
        return caches[conf.get("CACHE_ALIAS")].get(DATA_NAMESPACE + key)

    @staticmethod
    def invalidate_model_cache(key: str) -> None:
        caches[conf.get("CACHE_ALIAS")].delete(DATA_NAMESPACE + key)
