from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from sbsync.enums import LogStatus, Operation
from sbsync.models import PerformanceAnalysis
from sbsync.monitoring.performance import analyze_performance, resource_snapshot
from tests.api.conftest import ApiClient, token_for
from tests.factories import make_metrics, make_sync_log


@pytest.mark.django_db
def test_analyze_performance_stores_a_suggestion_for_each_problem_with_its_figure():
    for seconds in (0.1, 0.2, 3.5):
        make_sync_log(operation=Operation.PUSH, processing_time=seconds)
    make_sync_log(operation=Operation.PULL, status=LogStatus.ERROR, processing_time=0.1)
    make_metrics(operation_type="push", batch_size=800, memory_usage=700.0, query_count=400)
    make_metrics(operation_type="pull", batch_size=100, memory_usage=90.0, query_count=250)

    analysis = analyze_performance(days=7)

    assert PerformanceAnalysis.objects.get() == analysis
    assert analysis.period_days == 7
    assert analysis.suggestions == [
        "PUSH requests took 3.50 s at the 95th percentile over the last 7 days (above 2 s): ask clients for "
        "smaller batches, or look for slow models on the metrics page.",
        "pull runs 2.5 database queries per record (above 1): a model or data filter probably loads related "
        "rows one by one.",
        "push batches average 800 records and memory peaked at 700 MB (above 512 MB with batches over 500): "
        "lower MAX_PUSH_RECORDS or MAX_PULL_BATCH.",
        "25% of sync requests failed over the last 7 days (1 of 4, above 5%): see the error messages on the "
        "sync logs page.",
    ]
    # The refused pull moved none of its records.
    assert analysis.summary["requests"] == {"pushes": 3, "pulls": 1, "errors": 1, "records": 3}
    assert analysis.summary["timings"]["PUSH"]["p95"] == 3.5


@pytest.mark.django_db
def test_analyze_performance_of_healthy_activity_suggests_nothing():
    make_sync_log(processing_time=0.3)
    make_metrics(batch_size=800, memory_usage=100.0, query_count=20)

    analysis = analyze_performance(days=7)

    assert analysis.suggestions == []
    assert analysis.summary["metrics"]["push"]["count"] == 1


@pytest.mark.django_db
def test_analyze_performance_looks_only_at_its_period():
    make_sync_log(processing_time=9.0, timestamp=timezone.now() - timedelta(days=3))
    make_sync_log(processing_time=0.1)

    analysis = analyze_performance(days=1)

    assert analysis.suggestions == []
    assert analysis.summary["requests"]["pushes"] == 1


@pytest.mark.django_db
def test_resource_snapshot_reports_the_last_hours_throughput():
    make_sync_log(object_count=120)
    make_sync_log(object_count=60, operation=Operation.PULL)
    make_sync_log(object_count=999, timestamp=timezone.now() - timedelta(hours=2))

    snapshot = resource_snapshot()

    assert snapshot["last_hour"] == {
        "pushes": 1,
        "pulls": 1,
        "errors": 0,
        "records": 180,
        "records_per_minute": 3.0,
    }
    assert snapshot["process_memory_mb"] > 0
    assert snapshot["database_size_mb"] > 0
    assert (snapshot["queued_tasks"], snapshot["scheduled_tasks"]) == (0, 0)


@pytest.mark.django_db
def test_small_batches_make_no_queries_per_record_suggestion():
    make_metrics(operation_type="push", batch_size=1, memory_usage=80.0, query_count=13)

    analysis = analyze_performance(days=7)

    assert not any("queries per record" in s for s in analysis.suggestions)


def test_the_analysis_and_the_last_hour_count_records_applied_not_records_sent(trio):
    client = ApiClient(token_for(trio.alice))
    client.post(
        "push/",
        {
            "data": [{"_model": "shop.Customer", "name": f"c{n}"} for n in range(7)]
            + [{"_model": "shop.Nope"}]
        },
    )  # refused as a whole (unknown model): 8 sent, none applied
    client.post(
        "push/",
        {
            "data": [{"_model": "shop.Customer", "name": f"c{n}"} for n in range(7)]
            + [{"_model": "shop.Customer", "name": ""}] * 3
        },
    )  # partial: 7 of 10 applied
    client.post("push/", {"data": [{"_model": "shop.Customer", "name": "d"}] * 4, "dry_run": True})
    client.post("pull/", {"models": {"shop.Customer": None}})  # 7 records sent back

    analysis = analyze_performance(days=1)

    assert analysis.summary["requests"] == {"pushes": 3, "pulls": 1, "errors": 1, "records": 14}
    assert resource_snapshot()["last_hour"]["records"] == 14
