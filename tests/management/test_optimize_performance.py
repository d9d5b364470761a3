from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from huey import RedisHuey

from sbsync.enums import Operation
from sbsync.models import IdempotencyRecord, PerformanceAnalysis, PerformanceMetrics, SyncLog
from tests.factories import make_idempotency_record, make_metrics, make_sync_log


def run(*args: str) -> str:
    out = StringIO()
    call_command("optimize_performance", *args, stdout=out)
    return out.getvalue()


def _days_ago(days: float):
    return timezone.now() - timedelta(days=days)


@pytest.mark.django_db
def test_optimize_performance_analyze_prints_and_stores_the_analysis():
    make_sync_log(processing_time=2.5, object_count=40)
    make_sync_log(operation=Operation.PULL, processing_time=0.25, object_count=10)
    make_sync_log(processing_time=9.0, timestamp=_days_ago(5))
    make_metrics(operation_type="push", batch_size=40, query_count=20, memory_usage=95.0)

    out = run("--action", "analyze", "--days", "3")

    analysis = PerformanceAnalysis.objects.get()
    assert analysis.period_days == 3
    assert out.splitlines() == [
        f"Performance over the last 3 day(s) (analysis #{analysis.pk}):",
        "  requests: 1 push, 1 pull, 0 error(s), 50 record(s)",
        "  PUSH: 1 request(s), average 2.500 s, p50 2.500 s, p95 2.500 s, max 2.500 s",
        "  PULL: 1 request(s), average 0.250 s, p50 0.250 s, p95 0.250 s, max 0.250 s",
        "  metrics push: 1 sample(s), average batch 40, average queries 20.0, peak memory 95 MB",
        "Suggestions:",
        f"  - {analysis.suggestions[0]}",
    ]
    assert analysis.suggestions[0].startswith(
        "PUSH requests took 2.50 s at the 95th percentile over the last 3 days"
    )


@pytest.mark.django_db
def test_optimize_performance_analyze_without_problems_says_so():
    make_sync_log(processing_time=0.1)

    out = run("--action", "analyze")

    assert out.splitlines()[0].startswith("Performance over the last 7 day(s)")
    assert out.endswith("No suggestions: every figure is within its threshold.\n")


@pytest.mark.django_db
def test_optimize_performance_optimize_without_force_lists_the_statements_and_runs_nothing():
    out = StringIO()

    with pytest.raises(CommandError) as excinfo:
        call_command("optimize_performance", "--action", "optimize", stdout=out)

    assert (
        str(excinfo.value)
        == "Nothing was run: VACUUM can take a while and blocks writers on SQLite; pass --force to run it."
    )
    lines = out.getvalue().splitlines()
    assert lines[0] == "Would run:"
    assert f"  ANALYZE {connection.ops.quote_name('sbsync_synclog')}" in lines


@pytest.mark.django_db(transaction=True)
def test_optimize_performance_optimize_with_force_runs_analyze_and_vacuum():
    out = run("--action", "optimize", "--force")

    lines = out.splitlines()
    assert lines[0] == f"Ran {len(lines) - 1} statement(s):"
    assert (
        ("  VACUUM" in lines)
        if connection.vendor == "sqlite"
        else all(line.startswith("  VACUUM (ANALYZE) ") for line in lines[1:])
    )


@pytest.mark.django_db
def test_optimize_performance_cleanup_deletes_what_is_past_retention():
    make_sync_log(timestamp=_days_ago(100))
    kept_log = make_sync_log(timestamp=_days_ago(1))
    make_metrics(timestamp=_days_ago(100))
    make_idempotency_record(expires_at=_days_ago(1))

    out = run("--action", "cleanup")

    assert out == (
        "Deleted: 1 sync logs, 0 log files, 1 metrics, 0 tombstones, 0 watermelon checkpoints, 1 idempotency records, 0 tokens, 0 cache entries.\n"
    )
    assert list(SyncLog.objects.values_list("pk", flat=True)) == [kept_log.pk]
    assert (PerformanceMetrics.objects.count(), IdempotencyRecord.objects.count()) == (0, 0)


@pytest.mark.django_db
def test_optimize_performance_monitor_prints_resources_and_throughput():
    make_sync_log(object_count=300)

    out = run("--action", "monitor")

    lines = out.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "process memory",
        "system memory in use",
        "database size",
        "task queue",
        "last hour",
    ]
    assert lines[3] == "task queue: 0 queued, 0 scheduled"
    assert lines[4] == "last hour: 1 push, 0 pull, 0 error(s), 300 record(s), 5.0 records/minute"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--action", "analyze", "--days", "0"],
            "--days must be a whole number of days, at least 1 (got 0).",
        ),
        (
            ["--action", "analyze", "--days", "-1"],
            "--days must be a whole number of days, at least 1 (got -1).",
        ),
    ],
)
def test_optimize_performance_rejects_bad_days_and_stores_nothing(args, message):
    with pytest.raises(CommandError) as excinfo:
        run(*args)

    assert str(excinfo.value) == message
    assert PerformanceAnalysis.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("args", [["--action", "speedup"], ["--action", "analyze", "--days", "week"], []])
def test_optimize_performance_rejects_bad_arguments(args):
    with pytest.raises(CommandError) as excinfo:
        run(*args)

    assert str(excinfo.value).startswith("Error: ")
    assert PerformanceAnalysis.objects.count() == 0


def test_monitor_reports_an_unreachable_task_queue_instead_of_failing(db, monkeypatch):
    import sbsync.monitoring.performance as performance

    monkeypatch.setattr(performance, "HUEY", RedisHuey("sbsync-unreachable", url="redis://127.0.0.1:1/0"))
    out = StringIO()

    call_command("optimize_performance", "--action", "monitor", stdout=out)

    assert "task queue: unreachable" in out.getvalue()
