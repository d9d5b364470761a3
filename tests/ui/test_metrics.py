from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from sbsync.enums import LogStatus
from sbsync.models import PerformanceAnalysis
from sbsync.monitoring.stats import timing_summary
from sbsync.ui.charts import nice_ceiling, time_ticks
from tests.factories import make_metrics, make_sync_log
from tests.ui.conftest import HTMX, csv_rows

PAGE = reverse("sbsync:metrics")


def test_page_draws_every_chart_as_inline_svg(staff_client, db):
    now = timezone.now()
    for days, seconds in ((1, 0.2), (2, 0.4), (3, 0.6)):
        make_metrics(operation_type="push", processing_time=seconds, timestamp=now - timedelta(days=days))
    make_metrics(operation_type="pull", processing_time=0.1, timestamp=now - timedelta(days=1))

    week = (timezone.localdate() - timedelta(days=6)).isoformat()
    response = staff_client.get(PAGE, {"timestamp_after": week, "timestamp_before": ""})

    html = response.content.decode()
    titles = re.findall(r'<title id="chart-\d+-title">([^<]+)</title>', html)
    assert titles == [
        "Processing time (p50 and p95)",
        "Records per second (refused requests left out)",
        "Average batch size",
        "Average queries per operation",
        "Peak memory (MB)",
    ]
    # A week is drawn by day: pull has one day (a dot), push three (a line), memory covers both.
    assert re.findall(r'<polyline class="(line [^"]+)"', html) == [
        "line s2",
        "line s2 dashed",
        "line s2",
        "line s2",
        "line s2",
        "line s5",
    ]
    assert "<script" not in html.split("</head>")[1]


def test_page_breakdown_per_operation_and_model_uses_the_shared_percentiles(staff_client, db):
    times = [0.1, 0.2, 0.3, 0.4, 1.5]
    for seconds in times:
        make_metrics(operation_type="push", model_name="shop.Order", processing_time=seconds, batch_size=100)
    make_metrics(operation_type="pull", model_name="shop.Customer", processing_time=0.05, batch_size=10)

    response = staff_client.get(PAGE)

    expected = timing_summary(times)
    rows = re.findall(
        r"<tr>\s*<td>(\w+)</td><td>([\w.]+)</td><td class=\"numeric\">(\d+)</td><td class=\"numeric\">(\d+)</td>\s*<td class=\"numeric\">([^<]+)</td><td class=\"numeric\">([^<]+)</td><td class=\"numeric\">([^<]+)</td>",
        response.content.decode(),
    )
    assert rows == [
        ("pull", "shop.Customer", "1", "0", "50 ms", "50 ms", "50 ms"),
        (
            "push",
            "shop.Order",
            "5",
            "0",
            f"{expected.average * 1000:.0f} ms",
            f"{expected.p50 * 1000:.0f} ms",
            f"{expected.p95 * 1000:,.0f} ms",
        ),
    ]


def test_page_defaults_to_the_last_seven_days(staff_client, db):
    make_metrics(model_name="shop.Order", timestamp=timezone.now() - timedelta(days=10))
    recent = make_metrics(model_name="shop.Customer")

    response = staff_client.get(PAGE)

    html = response.content.decode()
    assert "1 sample" in html
    assert recent.timestamp.astimezone(timezone.get_current_timezone()).strftime("%Y-%m-%d %H:%M:%S") in html
    assert f'value="{(timezone.localdate() - timedelta(days=1)).isoformat()}"' in html


def test_page_empty_date_means_no_bound(staff_client, db):
    make_metrics(timestamp=timezone.now() - timedelta(days=40))

    response = staff_client.get(PAGE, {"timestamp_after": "", "timestamp_before": ""})

    assert "1 sample" in response.content.decode()


def test_page_filters_by_operation_and_model(staff_client, trio):
    make_metrics(operation_type="push", model_name="shop.Order")
    make_metrics(operation_type="pull", model_name="shop.Order")
    make_metrics(operation_type="push", model_name="shop.Customer")

    response = staff_client.get(PAGE, {"operation_type": "push", "model_name": "shop.Order"}, headers=HTMX)

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="metrics-results"')
    assert "1 sample" in html


def test_page_shows_the_latest_analysis_suggestions(staff_client, db):
    PerformanceAnalysis.objects.create(suggestions=["old advice"])
    PerformanceAnalysis.objects.create(suggestions=["Pull p95 is high: lower the batch size."])

    response = staff_client.get(PAGE)

    html = response.content.decode()
    assert "Pull p95 is high: lower the batch size." in html
    assert "old advice" not in html


def test_csv_equals_the_filtered_samples(staff_client, trio):
    kept = make_metrics(
        operation_type="pull",
        model_name="shop.Order",
        organization=trio.acme,
        batch_size=50,
        processing_time=0.5,
        query_count=7,
        memory_usage=90.5,
    )
    make_metrics(operation_type="push", model_name="shop.Order")
    make_metrics(
        operation_type="pull", model_name="shop.Order", timestamp=timezone.now() - timedelta(days=30)
    )

    response = staff_client.get(PAGE, {"operation_type": "pull", "_export": "csv"})

    assert csv_rows(response) == [
        [
            "When",
            "Operation",
            "Status",
            "Model",
            "Organization",
            "Batch",
            "Applied",
            "Time (ms)",
            "Records/s",
            "Queries",
            "Memory (MB)",
        ],
        [
            timezone.localtime(kept.timestamp).isoformat(),
            "pull",
            "SUCCESS",
            "shop.Order",
            "Acme",
            "50",
            "50",
            "500.0",
            "100.0",
            "7",
            "90.5",
        ],
    ]


def test_csv_link_carries_the_default_date(staff_client, db):
    response = staff_client.get(PAGE)

    after = (timezone.localdate() - timedelta(days=1)).isoformat()
    assert f'href="?timestamp_after={after}&amp;_export=csv"' in response.content.decode()


@pytest.mark.parametrize("item_count", [1, 3])
def test_page_query_count_does_not_grow_with_rows(staff_client, trio, django_assert_num_queries, item_count):
    for _ in range(item_count):
        make_metrics(organization=trio.acme)

    with django_assert_num_queries(10):
        staff_client.get(PAGE)


@pytest.mark.parametrize(
    ("value", "ceiling"), [(0, 1), (0.3, 0.5), (7, 10), (12, 20), (21, 25), (2500, 2500)]
)
def test_nice_ceiling_rounds_up_to_a_readable_number(value, ceiling):
    assert nice_ceiling(value) == ceiling


def test_default_range_is_two_days_in_hourly_buckets(staff_client, db):
    now = timezone.now()
    for hours in (1, 2, 3, 30):
        make_metrics(operation_type="push", processing_time=0.1, timestamp=now - timedelta(hours=hours))
    make_metrics(operation_type="push", processing_time=0.1, timestamp=now - timedelta(days=5))

    html = staff_client.get(PAGE).content.decode()

    first = html.split('<details class="chart-data">')[1].split("</details>")[0]
    moments = re.findall(r'<td class="nowrap">([^<]+)</td>', first)
    assert len(moments) == len(set(moments)) >= 3
    assert all(moment[-2:] == "00" for moment in moments)
    assert 'hx-trigger="every 60s"' in html


def test_refused_requests_count_apart_and_are_no_throughput(staff_client, db):
    for seconds in (0.5, 1.5):
        make_metrics(operation_type="PUSH", model_name="shop.Order", batch_size=1000, processing_time=seconds)
    make_metrics(
        operation_type="PUSH",
        model_name="shop.Order",
        batch_size=9000,
        processing_time=0.01,
        status=LogStatus.ERROR,
    )
    make_metrics(operation_type="PULL", model_name="shop.Order", processing_time=0.2, status=LogStatus.ERROR)

    html = staff_client.get(PAGE).content.decode()

    breakdown = html.split('id="breakdown-heading"')[1].split("</table>")[0]
    cells = [re.findall(r"<td[^>]*>([^<]*)</td>", row) for row in breakdown.split("<tr>")[2:]]
    # operation, model, samples, refused, average, p50, p95, records/s
    assert [row[:4] + row[7:8] for row in cells] == [
        ["PULL", "shop.Order", "1", "1", "–"],
        ["PUSH", "shop.Order", "3", "1", "1,000"],
    ]


def test_each_sample_links_to_its_log_while_the_log_is_kept(staff_client, db):
    log = make_sync_log(status=LogStatus.ERROR)
    make_metrics(log=log, status=LogStatus.ERROR, batch_size=7)
    make_metrics(log=None, batch_size=8)

    html = staff_client.get(PAGE).content.decode()

    table = html.split('id="metrics-table"')[1]
    links = re.findall(r'<a href="(/api/sync/config/logs/[0-9a-f-]{36}/)"', table)
    assert links == [reverse("sbsync:sync-log-detail", args=[log.code])]
    assert staff_client.get(links[0]).status_code == 200


def test_a_partial_push_counts_only_its_applied_records_as_throughput(staff_client, db):
    # 10 records sent in 1 s, 3 refused: 7 records per second, not 10.
    make_metrics(
        operation_type="PUSH",
        model_name="shop.Order",
        batch_size=10,
        records_applied=7,
        processing_time=1.0,
        status=LogStatus.WARNING,
    )
    make_metrics(operation_type="PUSH", model_name="shop.Order", batch_size=5, processing_time=1.0)

    html = staff_client.get(PAGE).content.decode()

    breakdown = html.split('id="breakdown-heading"')[1].split("</table>")[0]
    cells = [re.findall(r"<td[^>]*>([^<]*)</td>", row) for row in breakdown.split("<tr>")[2:]]
    assert [row[7] for row in cells] == ["6"]  # (7 + 5) records over 2 s; counting batches: 7.5
    throughput = html.split("Records per second", 1)[1].split("</details>")[0]
    assert re.findall(r"<td[^>]*>([\d.,]+)</td>", throughput) == ["6"]
    samples = html.split('id="metrics-table"')[1]
    assert re.findall(r'<td class="numeric">([^<]*)</td>', samples)[::5] == ["5", "7 of 10"]


def time_labels(html: str) -> list[str]:
    """The time labels of the first chart on the page."""
    first = html.split("<svg")[1].split("</svg>")[0]
    return re.findall(r'<text [^>]*class="time[^"]*">([^<]+)</text>', first)


@pytest.mark.parametrize("zone", ["UTC", "Asia/Kolkata", "America/St_Johns"])
def test_hourly_time_labels_sit_on_the_hour_in_the_site_time_zone(staff_client, db, settings, zone):
    settings.TIME_ZONE = zone
    make_metrics(processing_time=0.1, timestamp=timezone.now() - timedelta(hours=3))

    labels = time_labels(staff_client.get(PAGE).content.decode())

    # Whole hours; midnight names its day instead.
    assert 3 <= len(labels) <= 5
    hours = [0 if re.fullmatch(r"[A-Z][a-z]{2} \d\d", label) else int(label[:2]) for label in labels]
    assert all(re.fullmatch(r"\d\d:00|[A-Z][a-z]{2} \d\d", label) for label in labels), labels
    assert any(re.fullmatch(r"\d\d:00", label) for label in labels), labels
    steps = {(b - a) % 24 for a, b in itertools.pairwise(hours)}
    assert len(steps) == 1, labels
    step = steps.pop()
    assert all(hour % step == 0 for hour in hours), labels


@pytest.mark.parametrize("span", [timedelta(hours=5), timedelta(hours=26), timedelta(hours=47)])
def test_time_ticks_are_whole_hours_apart_whatever_the_range(settings, span):
    settings.TIME_ZONE = "Asia/Kolkata"
    start = timezone.localtime(datetime(2026, 3, 1, 4, 30, tzinfo=UTC))  # 10:00 in Kolkata
    ticks = time_ticks(start, start + span, timedelta(hours=1))

    assert 2 <= len(ticks) <= 5
    assert all(start <= tick <= start + span for tick in ticks)
    assert all((tick.minute, tick.second) == (0, 0) for tick in ticks)
    gaps = {b - a for a, b in itertools.pairwise(ticks)}
    assert len(gaps) == 1 and gaps.pop() % timedelta(hours=1) == timedelta(0)


def test_daily_time_labels_sit_on_midnight_one_per_day_step(staff_client, db, settings):
    settings.TIME_ZONE = "Asia/Kolkata"
    make_metrics(processing_time=0.1, timestamp=timezone.now() - timedelta(days=3))
    week = (timezone.localdate() - timedelta(days=9)).isoformat()

    html = staff_client.get(PAGE, {"timestamp_after": week}).content.decode()

    labels = time_labels(html)
    assert 3 <= len(labels) <= 5 and len(set(labels)) == len(labels)
    assert all(re.fullmatch(r"[A-Z][a-z]{2} \d\d", label) for label in labels), labels
    start = timezone.localtime(datetime(2026, 3, 1, 12, tzinfo=UTC))
    ticks = time_ticks(start, start + timedelta(days=10), timedelta(days=1))
    assert all((tick.hour, tick.minute) == (0, 0) for tick in ticks)
    assert ticks[0] == timezone.localtime(datetime(2026, 3, 1, 18, 30, tzinfo=UTC))  # Mar 02 in Kolkata
