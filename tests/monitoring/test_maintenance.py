from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from knox.models import AuthToken

from sbsync import access
from sbsync.cache import generation
from sbsync.models import (
    IdempotencyRecord,
    PerformanceAnalysis,
    PerformanceMetrics,
    SyncLog,
    SyncRecord,
    WatermelonCheckpoint,
)
from sbsync.monitoring.maintenance import (
    cleanup_all,
    cleanup_metrics,
    cleanup_sync_logs,
    optimization_plan,
    optimize_tables,
    purge_expired,
)
from tests.factories import (
    make_idempotency_record,
    make_membership,
    make_metrics,
    make_organization,
    make_permission,
    make_sync_log,
    make_user,
)


def _days_ago(days: float):
    return timezone.now() - timedelta(days=days)


def _day_file(directory, days_old: int):
    path = directory / f"sb_sync-{(timezone.localdate() - timedelta(days=days_old)).isoformat()}.log"
    path.write_text("line\n")
    return path


def _tombstone(scope: int, pk: str, days_old: float) -> SyncRecord:
    return SyncRecord.objects.create(
        scope=scope,
        model_label="shop.Customer",
        object_pk=pk,
        deleted=True,
        seq=int(days_old),
        changed_at=_days_ago(days_old),
    )


@pytest.mark.django_db
def test_cleanup_sync_logs_deletes_only_logs_older_than_the_cutoff(tmp_path):
    old = [make_sync_log(timestamp=_days_ago(100)), make_sync_log(timestamp=_days_ago(91))]
    recent = [make_sync_log(timestamp=_days_ago(89)), make_sync_log()]

    result = cleanup_sync_logs(before=_days_ago(90), directory=tmp_path)

    assert result.rows == len(old)
    assert set(SyncLog.objects.values_list("pk", flat=True)) == {log.pk for log in recent}


@pytest.mark.django_db
def test_cleanup_sync_logs_keeps_the_samples_of_deleted_logs_unlinked(tmp_path):
    old, recent = make_sync_log(timestamp=_days_ago(100)), make_sync_log()
    old_sample, recent_sample = make_metrics(log=old), make_metrics(log=recent)

    result = cleanup_sync_logs(before=_days_ago(90), directory=tmp_path)

    assert result.rows == 1
    assert dict(PerformanceMetrics.objects.values_list("pk", "log")) == {
        old_sample.pk: None,
        recent_sample.pk: recent.pk,
    }


@pytest.mark.django_db
def test_cleanup_sync_logs_dry_run_counts_and_deletes_nothing(tmp_path):
    make_sync_log(timestamp=_days_ago(100))
    make_sync_log()
    _day_file(tmp_path, 100)

    result = cleanup_sync_logs(before=_days_ago(90), directory=tmp_path, dry_run=True)

    assert (result.rows, result.files) == (1, [str(_day_file(tmp_path, 100))])
    assert SyncLog.objects.count() == 2
    assert _day_file(tmp_path, 100).exists()


@pytest.mark.django_db
def test_cleanup_sync_logs_keeps_day_files_30_days_and_ignores_other_files(tmp_path):
    kept = [_day_file(tmp_path, 0), _day_file(tmp_path, 29)]
    gone = [_day_file(tmp_path, 31), _day_file(tmp_path, 200)]
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "sb_sync-not-a-date.log").write_text("x")

    result = cleanup_sync_logs(before=_days_ago(90), directory=tmp_path)

    assert result.files == [str(p) for p in sorted(gone)]
    assert sorted(tmp_path.iterdir()) == sorted(
        [*kept, tmp_path / "notes.txt", tmp_path / "sb_sync-not-a-date.log"]
    )


@pytest.mark.django_db
def test_cleanup_sync_logs_with_a_shorter_cutoff_removes_younger_day_files(tmp_path):
    _day_file(tmp_path, 2)
    old = _day_file(tmp_path, 12)

    result = cleanup_sync_logs(before=_days_ago(10), directory=tmp_path)

    assert result.files == [str(old)]


@pytest.mark.django_db
def test_cleanup_sync_logs_uses_log_dir_by_default(tmp_path):
    old = _day_file(tmp_path, 100)

    with override_settings(SBSYNC={"LOG_DIR": str(tmp_path)}):
        result = cleanup_sync_logs(before=_days_ago(90))

    assert result.files == [str(old)]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.django_db
def test_cleanup_metrics_deletes_old_samples_and_analyses_only():
    make_metrics(timestamp=_days_ago(100))
    recent_metric = make_metrics(timestamp=_days_ago(10))
    old_analysis, recent_analysis = PerformanceAnalysis.objects.create(), PerformanceAnalysis.objects.create()
    PerformanceAnalysis.objects.filter(pk=old_analysis.pk).update(created_at=_days_ago(100))

    deleted = cleanup_metrics(before=_days_ago(90))

    assert deleted == 2
    assert list(PerformanceMetrics.objects.values_list("pk", flat=True)) == [recent_metric.pk]
    assert list(PerformanceAnalysis.objects.values_list("pk", flat=True)) == [recent_analysis.pk]


@pytest.mark.django_db
def test_purge_expired_removes_expired_idempotency_records_and_tokens_only():
    user = make_user()
    expired_record = make_idempotency_record(expires_at=_days_ago(1))
    valid_record = make_idempotency_record(expires_at=timezone.now() + timedelta(hours=2))
    expired_token, _ = AuthToken.objects.create(user, expiry=timedelta(seconds=-1))
    valid_token, _ = AuthToken.objects.create(user, expiry=timedelta(days=1))
    endless_token, _ = AuthToken.objects.create(user, expiry=None)

    purged = purge_expired(now=timezone.now())

    assert (purged.idempotency_records, purged.tokens) == (1, 1)
    assert list(IdempotencyRecord.objects.values_list("pk", flat=True)) == [valid_record.pk]
    assert set(AuthToken.objects.values_list("digest", flat=True)) == {
        valid_token.digest,
        endless_token.digest,
    }
    assert not IdempotencyRecord.objects.filter(pk=expired_record.pk).exists()
    assert not AuthToken.objects.filter(digest=expired_token.digest).exists()


@pytest.mark.django_db
def test_purge_expired_drops_cache_entries_of_old_generations_only(trio):
    old_generation = generation()
    access.access_for(trio.alice, trio.acme)
    make_permission(organization=trio.acme, group=trio.members, model_label="shop.Order")
    new_generation = generation()
    current = access.access_for(trio.alice, trio.acme)
    key = f"perms:{trio.acme.pk}:{trio.owners.pk}"

    purged = purge_expired(now=timezone.now())

    assert purged.cache_entries == 3
    assert [cache.get(f"sbsync:{old_generation}:{k}") for k in ("discovery", key)] == [None, None]
    assert cache.get(f"sbsync:{new_generation}:{key}") == current.permissions
    assert purge_expired(now=timezone.now()).cache_entries == 0


@pytest.mark.django_db
def test_cleanup_all_applies_each_retention_setting(tmp_path):
    org = make_organization()
    make_sync_log(timestamp=_days_ago(40))
    kept_log = make_sync_log(timestamp=_days_ago(20))
    make_metrics(timestamp=_days_ago(15))
    kept_metric = make_metrics(timestamp=_days_ago(5))
    _tombstone(org.pk, "old", days_old=70)
    kept_tombstone = _tombstone(org.pk, "new", days_old=50)
    make_idempotency_record(expires_at=_days_ago(1))
    member = make_membership(organization=org)
    _, kept_checkpoint = (
        WatermelonCheckpoint.objects.create(user=member.user, organization=org, created_at=_days_ago(days))
        for days in (70, 50)
    )
    settings = {
        "LOG_RETENTION_DAYS": 30,
        "METRICS_RETENTION_DAYS": 10,
        "TOMBSTONE_RETENTION_DAYS": 60,
        "LOG_DIR": str(tmp_path),
    }

    with override_settings(SBSYNC=settings):
        counts = cleanup_all(now=timezone.now())

    assert counts == {
        "sync_logs": 1,
        "log_files": 0,
        "metrics": 1,
        "tombstones": 1,
        "watermelon_checkpoints": 1,
        "idempotency_records": 1,
        "tokens": 0,
        "cache_entries": 0,
    }
    assert list(SyncLog.objects.values_list("pk", flat=True)) == [kept_log.pk]
    assert list(PerformanceMetrics.objects.values_list("pk", flat=True)) == [kept_metric.pk]
    assert list(SyncRecord.objects.values_list("pk", flat=True)) == [kept_tombstone.pk]
    assert list(WatermelonCheckpoint.objects.values_list("pk", flat=True)) == [kept_checkpoint.pk]


@pytest.mark.django_db
def test_optimization_plan_covers_sbsync_and_synced_model_tables():
    quoted = connection.ops.quote_name

    plan = optimization_plan(vacuum=False)

    for table in (
        "sbsync_synclog",
        "sbsync_syncrecord",
        "sbsync_historicalmodelpermission",
        "shop_customer",
        "shop_historicalcustomer",
    ):
        assert f"ANALYZE {quoted(table)}" in plan.statements
    assert not any("auth_user" in statement for statement in plan.statements)


@pytest.mark.django_db
def test_optimize_tables_inside_a_transaction_analyzes_and_skips_vacuum():
    result = optimize_tables(vacuum=True)

    assert result.skipped == ["VACUUM: not possible inside a transaction"]
    assert not any(statement.startswith("VACUUM") for statement in result.statements)
    assert f"ANALYZE {connection.ops.quote_name('sbsync_synclog')}" in result.statements


@pytest.mark.django_db(transaction=True)
def test_optimize_tables_outside_a_transaction_vacuums_and_refreshes_statistics():
    for _ in range(3):
        make_sync_log()

    result = optimize_tables(vacuum=True)

    assert result.skipped == []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            assert 'VACUUM (ANALYZE) "sbsync_synclog"' in result.statements
            cursor.execute(
                "SELECT last_vacuum IS NOT NULL, last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'sbsync_synclog'"
            )
            assert cursor.fetchone() == (True, True)
        else:
            assert result.statements[-2:] == ["PRAGMA optimize", "VACUUM"]
            cursor.execute("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'sbsync_synclog'")
            assert cursor.fetchone()[0] > 0
