from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from sbsync import cache as config_cache
from sbsync.models import PerformanceAnalysis, PerformanceMetrics


def metric(operation, seconds, batch=10, age=timedelta(minutes=5), memory=50.0, applied=None):
    row = PerformanceMetrics.objects.create(
        operation_type=operation,
        model_name="shop.Customer",
        batch_size=batch,
        records_applied=batch if applied is None else applied,
        processing_time=seconds,
        memory_usage=memory,
        query_count=7,
    )
    PerformanceMetrics.objects.filter(pk=row.pk).update(timestamp=timezone.now() - age)
    return row


@pytest.fixture
def staff_api(staff_user, api):
    return api(staff_user)


def test_performance_reports_counts_averages_and_percentiles_per_operation(staff_api):
    for seconds in (0.1, 0.2, 0.3, 0.4):
        metric("PULL", seconds)
    metric("PUSH", 1.0, memory=80.0)
    metric("PUSH", 9.0, age=timedelta(days=30))

    body = staff_api.get("performance/").json()

    pull = body["operations"]["PULL"]
    assert (pull["count"], pull["p50"], pull["p95"], pull["maximum"]) == (4, 0.2, 0.4, 0.4)
    assert pull["average"] == pytest.approx(0.25)
    assert body["operations"]["PUSH"]["count"] == 1
    assert body["operations"]["PUSH"]["peak_memory_mb"] == 80.0
    assert body["performance_stats"]["total_operations"] == 5
    assert body["performance_stats"]["average_processing_time"] == pytest.approx(0.4)


def test_performance_period_is_chosen_with_days(staff_api):
    metric("PUSH", 9.0, age=timedelta(days=30))

    week = staff_api.get("performance/").json()
    quarter = staff_api.get("performance/?days=90").json()

    assert (week["period_days"], week["performance_stats"]["total_operations"]) == (7, 0)
    assert (quarter["period_days"], quarter["performance_stats"]["total_operations"]) == (90, 1)


def test_throughput_is_records_per_processing_second_over_the_last_hour(staff_api):
    metric("PULL", 0.5, batch=500)
    metric("PULL", 1.5, batch=1500)
    metric("PULL", 1.0, batch=99999, age=timedelta(hours=2))

    body = staff_api.get("performance/").json()

    assert body["throughput"] == {
        "PULL": {"operations": 2, "refused": 0, "records": 2000, "records_per_second": 1000.0}
    }


def test_cache_hit_rate_counts_configuration_cache_lookups_of_this_process(trio, api, staff_api):
    client = api(trio.alice)
    before = config_cache.lookup_counts()
    for _ in range(3):
        client.post("pull/", {"models": {"shop.Customer": None}})

    stats = staff_api.get("performance/").json()["cache_stats"]

    assert stats["cache_misses"] - before["misses"] >= 3
    assert stats["cache_hits"] - before["hits"] >= 6
    assert stats["cache_hit_rate"] == round(
        stats["cache_hits"] / (stats["cache_hits"] + stats["cache_misses"]), 4
    )
    assert stats["counted_by"].startswith("this server process")


def test_suggestions_come_from_the_latest_analysis_and_there_are_none_before_one_ran(staff_api):
    none_yet = staff_api.get("performance/").json()
    PerformanceAnalysis.objects.create(suggestions=["old advice"])
    latest = PerformanceAnalysis.objects.create(
        suggestions=["Pull batches of 1000 take 2.1 s at p95: use 500."]
    )

    body = staff_api.get("performance/").json()

    assert (none_yet["optimization_suggestions"], none_yet["analysis_at"]) == ([], None)
    assert body["optimization_suggestions"] == ["Pull batches of 1000 take 2.1 s at p95: use 500."]
    assert body["analysis_at"] == latest.created_at.isoformat().replace("+00:00", "Z")


def test_performance_reports_the_current_memory_of_the_server_process(staff_api):
    assert 10 < staff_api.get("performance/").json()["current_memory_usage"] < 10_000


def test_performance_is_for_staff_only(trio, api):
    metric("PULL", 0.1)

    response = api(trio.alice).get("performance/")

    assert response.status_code == 403
    assert response.json() == {
        "error": "forbidden",
        "detail": "Only staff users with the permission sbsync.view_performancemetrics may read performance figures.",
    }


def test_performance_needs_a_token(db, api):
    response = api().get("performance/")

    assert (response.status_code, response.json()["error"]) == (401, "not_authenticated")


@pytest.mark.parametrize("days", ["0", "-1", "x", "367", "1.5", "²", "١"])
def test_performance_rejects_a_bad_period(staff_api, days):
    response = staff_api.get(f"performance/?days={days}")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["days"]
