from __future__ import annotations

import logging
from datetime import datetime, timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from huey.contrib.djhuey import HUEY
from huey.exceptions import TaskLockedException
from knox.models import AuthToken

from sbsync import access, tasks
from sbsync.cache import generation
from sbsync.models import (
    IdempotencyRecord,
    PerformanceAnalysis,
    PerformanceMetrics,
    SyncLog,
    SyncRecord,
    SyncReport,
)
from tests.factories import (
    clock_horizon,
    make_idempotency_record,
    make_metrics,
    make_organization,
    make_sync_log,
    make_user,
)

CONFIG_TABLES = ("sbsync_modelpermission", "sbsync_datafilter", "sbsync_discoveryconfig")
PERIODIC = {
    "cleanup_old_sync_logs",
    "compact_old_tombstones",
    "generate_sync_report",
    "optimize_database_tables",
    "cache_warmup",
    "memory_optimization",
    "performance_analysis",
}


def _days_ago(days: float):
    return timezone.now() - timedelta(days=days)


def _due(moment: datetime) -> set[str]:
    return {task.name for task in HUEY.read_periodic(moment)} & PERIODIC


@pytest.mark.parametrize(
    ("moment", "due"),
    [
        (datetime(2026, 11, 28, 0, 30), {"generate_sync_report", "cache_warmup"}),
        (datetime(2026, 11, 28, 3, 0), {"cleanup_old_sync_logs", "cache_warmup"}),
        (datetime(2026, 11, 28, 3, 30), {"compact_old_tombstones", "cache_warmup"}),
        (datetime(2026, 11, 28, 4, 0), {"cache_warmup"}),
        (datetime(2026, 11, 29, 4, 0), {"optimize_database_tables", "cache_warmup"}),
        (datetime(2026, 11, 28, 13, 15), {"performance_analysis", "cache_warmup"}),
        (datetime(2026, 11, 28, 13, 45), {"memory_optimization", "cache_warmup"}),
        (datetime(2026, 11, 28, 13, 7), set()),
    ],
)
def test_periodic_tasks_are_due_on_their_schedule(moment, due):
    assert _due(moment) == due


@pytest.mark.django_db
def test_cleanup_old_sync_logs_deletes_logs_and_metrics_past_retention(caplog):
    make_sync_log(timestamp=_days_ago(31))
    kept_log = make_sync_log(timestamp=_days_ago(29))
    make_metrics(timestamp=_days_ago(11))
    kept_metric = make_metrics(timestamp=_days_ago(9))
    caplog.set_level(logging.INFO, logger="sbsync.tasks")

    with override_settings(SBSYNC={"LOG_RETENTION_DAYS": 30, "METRICS_RETENTION_DAYS": 10}):
        result = tasks.cleanup_old_sync_logs.call_local()

    assert result == {"sync_logs": 1, "log_files": [], "metrics": 1}
    assert list(SyncLog.objects.values_list("pk", flat=True)) == [kept_log.pk]
    assert list(PerformanceMetrics.objects.values_list("pk", flat=True)) == [kept_metric.pk]
    assert caplog.messages == ["cleanup_old_sync_logs: deleted 1 sync logs, 0 log files and 1 metric rows"]


@pytest.mark.django_db
def test_compact_old_tombstones_removes_tombstones_past_retention_and_raises_the_horizon():
    org = make_organization()
    for pk, seq, age in (("a", 1, 100), ("b", 2, 95), ("c", 3, 10)):
        SyncRecord.objects.create(
            scope=org.pk,
            model_label="shop.Customer",
            object_pk=pk,
            deleted=True,
            seq=seq,
            changed_at=_days_ago(age),
        )

    removed = tasks.compact_old_tombstones.call_local()

    assert removed == 2
    assert list(SyncRecord.objects.values_list("object_pk", flat=True)) == ["c"]
    assert clock_horizon(org.pk) == 2


@pytest.mark.django_db
def test_generate_sync_report_stores_yesterdays_statistics(caplog):
    org = make_organization(slug="acme")
    yesterday = timezone.localdate() - timedelta(days=1)
    noon = timezone.make_aware(datetime.combine(yesterday, datetime.min.time())) + timedelta(hours=12)
    make_sync_log(organization=org, timestamp=noon, object_count=6)
    make_sync_log(organization=org, object_count=50)
    caplog.set_level(logging.INFO, logger="sbsync.tasks")

    rows = tasks.generate_sync_report.call_local()

    assert rows == 1
    assert list(
        SyncReport.objects.values_list("date", "organization__slug", "model_name", "pushes", "records_pushed")
    ) == [(yesterday, "acme", "shop.Customer", 1, 6)]
    assert caplog.messages == [f"generate_sync_report: stored 1 report rows for {yesterday.isoformat()}"]


@pytest.mark.django_db(transaction=True)
def test_optimize_database_tables_analyzes_and_vacuums():
    make_sync_log()

    statements = tasks.optimize_database_tables.call_local()

    quoted = connection.ops.quote_name("sbsync_synclog")
    expected = f"VACUUM (ANALYZE) {quoted}" if connection.vendor == "postgresql" else f"ANALYZE {quoted}"
    assert expected in statements
    assert connection.vendor == "postgresql" or statements[-1] == "VACUUM"


@pytest.mark.django_db
def test_cache_warmup_caches_what_each_members_requests_read(trio):
    pairs = tasks.cache_warmup.call_local()

    assert pairs == 3
    assert (
        cache.get(f"sbsync:{generation()}:perms:{trio.globex.pk}:{trio.owners.pk}")["shop.order"]["push"]
        is True
    )
    with CaptureQueriesContext(connection) as queries:
        warmed = access.access_for(trio.alice, trio.acme)
    read = " ".join(query["sql"] for query in queries.captured_queries)
    assert [table for table in CONFIG_TABLES if table in read] == []
    assert warmed.can("shop.Customer", "push") is True


@pytest.mark.django_db
def test_memory_optimization_purges_expired_tokens_and_idempotency_records(trio):
    user = make_user()
    expired_token, _ = AuthToken.objects.create(user, expiry=timedelta(seconds=-5))
    valid_token, _ = AuthToken.objects.create(user, expiry=timedelta(hours=1))
    make_idempotency_record(expires_at=_days_ago(2))
    valid_record = make_idempotency_record()
    stale_generation = generation()
    access.access_for(trio.alice, trio.acme)
    trio.acme.model_permissions.first().save()

    result = tasks.memory_optimization.call_local()

    assert result == {"idempotency_records": 1, "tokens": 1, "cache_entries": 3}
    assert list(AuthToken.objects.values_list("digest", flat=True)) == [valid_token.digest]
    assert list(IdempotencyRecord.objects.values_list("pk", flat=True)) == [valid_record.pk]
    assert cache.get(f"sbsync:{stale_generation}:discovery") is None


@pytest.mark.django_db
def test_performance_analysis_stores_an_analysis_with_suggestions():
    make_sync_log(processing_time=5.0)

    pk = tasks.performance_analysis.call_local()

    analysis = PerformanceAnalysis.objects.get()
    assert (analysis.pk, analysis.period_days) == (pk, 7)
    assert analysis.suggestions[0].startswith(
        "PUSH requests took 5.00 s at the 95th percentile over the last 7 days"
    )


@pytest.mark.django_db
def test_periodic_task_runs_through_huey_in_immediate_mode():
    make_idempotency_record(expires_at=_days_ago(1))

    tasks.memory_optimization()

    assert IdempotencyRecord.objects.count() == 0


@pytest.mark.parametrize(
    ("task", "lock"),
    [
        (tasks.cleanup_old_sync_logs, "sbsync-cleanup-old-sync-logs"),
        (tasks.compact_old_tombstones, "sbsync-compact-old-tombstones"),
        (tasks.generate_sync_report, "sbsync-generate-sync-report"),
        (tasks.optimize_database_tables, "sbsync-optimize-database-tables"),
        (tasks.cache_warmup, "sbsync-cache-warmup"),
        (tasks.memory_optimization, "sbsync-memory-optimization"),
        (tasks.performance_analysis, "sbsync-performance-analysis"),
    ],
)
@pytest.mark.django_db
def test_periodic_task_does_not_run_while_its_previous_run_holds_the_lock(task, lock):
    make_sync_log(timestamp=_days_ago(400))

    with HUEY.lock_task(lock), pytest.raises(TaskLockedException):
        task.call_local()

    assert SyncLog.objects.count() == 1
    assert PerformanceAnalysis.objects.count() == 0
    assert not HUEY.is_locked(lock)


def test_every_sbsync_periodic_task_is_registered_as_periodic():
    registered = {task.name for task in HUEY._registry.periodic_tasks} & PERIODIC

    assert registered == PERIODIC
