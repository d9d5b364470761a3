"""Performance metrics as staff read them, at desktop and phone size: a refused push is counted apart
and is no throughput, a partial push counts only the records it wrote, each sample links to its sync log, charts read by the hour over two days and by
the day beyond (labels on whole hours and days), their text is at least 11 px on screen, and the page refreshes itself every minute."""

from __future__ import annotations

import re
from datetime import timedelta
from itertools import pairwise

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from e2e.ui import CONFIG, settled, sign_in
from sbsync.models import PerformanceMetrics
from sbsync.service_tokens import issue_service_token
from tests.factories import (
    make_group,
    make_membership,
    make_metrics,
    make_organization,
    make_permission,
    make_user,
)

CHART_WIDTH = 560  # the viewBox width of sbsync/ui/charts.py


@pytest.fixture
def samples(transactional_db):
    """Pushes of orders over the last two days and last week (1000 records per second each), and a
    member of Acme allowed to push orders and customers only, with an API token."""
    acme = make_organization(name="Acme", slug="acme")
    sales = make_group("Sales")
    user = make_user(username="scanner")
    make_membership(user=user, organization=acme, group=sales)
    make_permission(organization=acme, group=sales, model_label="shop.Order", actions=["push", "create"])
    make_permission(organization=acme, group=sales, model_label="shop.Customer", actions=["push", "create"])
    now = timezone.now()
    for hours in (1, 2, 5, 9, 20, 30, 100, 140):
        make_metrics(
            operation_type="PUSH",
            model_name="shop.Order",
            organization=acme,
            batch_size=100,
            processing_time=0.1,
            timestamp=now - timedelta(hours=hours),
        )
    _, token = issue_service_token(user=user, name="scanner", issued_by=None, lifetime=timedelta(days=1))
    return token


def breakdown_row(page: Page, model: str) -> list[str]:
    row = page.locator("#breakdown-heading + .table-container tbody tr", has_text=model)
    return row.locator("td").all_inner_texts()


def chart_labels(page: Page) -> list[str]:
    return page.locator("svg.chart").first.locator("text").evaluate_all("els => els.map(e => e.textContent)")


def time_labels(page: Page) -> list[str]:
    """The time labels of the first chart (those a phone leaves out included)."""
    return (
        page.locator("svg.chart")
        .first.locator("text.time")
        .evaluate_all("els => els.map(e => e.textContent)")
    )


def rendered_text_sizes(page: Page) -> list[float]:
    """The on-screen font size of every chart label: its CSS size scaled as its SVG is."""
    return page.locator("svg.chart text").evaluate_all(
        f"els => els.map(t => parseFloat(getComputedStyle(t).fontSize)"
        f" * t.ownerSVGElement.getBoundingClientRect().width / {CHART_WIDTH})"
    )


def time_labels_apart(page: Page) -> bool:
    """Whether the shown time labels of the first chart leave space between each other."""
    spans = (
        page.locator("svg.chart")
        .first.locator("text.time")
        .evaluate_all(
            "els => els.filter(e => getComputedStyle(e).display !== 'none')"
            ".map(e => { const r = e.getBoundingClientRect(); return [r.left, r.right]; })"
        )
    )
    return len(spans) >= 2 and all(left[1] < right[0] for left, right in pairwise(spans))


def test_refused_pushes_count_apart_samples_link_to_logs_and_charts_read_well(
    watched_page: Page, live_server, screenshot, samples, viewport
):
    page = watched_page
    refused = page.request.post(
        f"{live_server.url}/api/sync/push/",
        headers={"Authorization": f"Bearer {samples}", "X-Sync-Organization": "acme"},
        data={"data": [{"_model": "shop.Report", "report_type": "AUDIT"}] * 50},
    )
    assert refused.status == 403
    # A partial push of customers: 7 of 10 written, so 7 records count as throughput, not 10.
    partial = page.request.post(
        f"{live_server.url}/api/sync/push/",
        headers={"Authorization": f"Bearer {samples}", "X-Sync-Organization": "acme"},
        data={
            "data": [{"_model": "shop.Customer", "name": f"c{n}"} for n in range(7)]
            + [{"_model": "shop.Customer", "name": ""}] * 3
        },
    )
    assert (partial.status, partial.json()["success_count"]) == (200, 7)
    applied = PerformanceMetrics.objects.get(model_name="shop.Customer")
    page.clock.install()
    sign_in(page, live_server, next_path=f"{CONFIG}metrics/")
    width = viewport["width"]

    # Breakdown: operation, model, samples, refused, average, p50, p95, records/s, ...
    expect(page.locator("#metrics-table .table-meta")).to_contain_text("8 samples")
    customers = breakdown_row(page, "shop.Customer")
    assert customers[2:4] + customers[7:8] == ["1", "0", f"{7 / applied.processing_time:,.0f}"]
    expect(page.locator("#metrics-table tbody tr", has_text="shop.Customer")).to_contain_text("7 of 10")
    assert breakdown_row(page, "shop.Order")[2:4] + breakdown_row(page, "shop.Order")[7:8] == [
        "6",
        "0",
        "1,000",
    ]
    assert breakdown_row(page, "shop.Report")[2:4] + breakdown_row(page, "shop.Report")[7:8] == [
        "1",
        "1",
        "–",
    ]
    expect(page.get_by_role("heading", name="Records per second (refused requests left out)")).to_be_visible()

    # Two days: hourly buckets, hours on the axis; labels stay readable on a phone.
    labels = chart_labels(page)
    assert any(re.fullmatch(r"\d\d:\d\d", label) for label in labels), labels
    first = page.locator("details.chart-data").first
    first.locator("summary").click()
    moments = first.locator("tbody td.nowrap").all_inner_texts()
    assert len(moments) >= 5 and all(m.endswith(":00") for m in moments), moments
    # The axis reads whole hours (never 10:15), midnight by its day, evenly stepped.
    times = time_labels(page)
    hours = [0 if re.fullmatch(r"[A-Z][a-z]{2} \d\d", t) else int(t[:2]) for t in times]
    assert 3 <= len(times) <= 5 and all(re.fullmatch(r"\d\d:00|[A-Z][a-z]{2} \d\d", t) for t in times), times
    assert len({(b - a) % 24 for a, b in pairwise(hours)}) == 1, times
    assert min(rendered_text_sizes(page)) >= 11
    assert time_labels_apart(page)
    screenshot(page, f"metrics-hourly-{width}")

    # A new sample appears within a minute, without a reload.
    make_metrics(operation_type="PULL", model_name="shop.Order", batch_size=3, processing_time=0.01)
    page.clock.run_for(61_000)
    settled(page)
    expect(page.locator("#metrics-table .table-meta")).to_contain_text("9 samples")

    # The refused sample opens its log.
    report = page.locator("#metrics-table tbody tr", has_text="shop.Report")
    expect(report).to_contain_text("Refused")
    report.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Push at")
    expect(page.locator(".details-list")).to_contain_text("shop.Report")
    expect(page.locator(".error-table")).to_contain_text("You may not push records of this model.")
    page.go_back()

    # A week: daily buckets, days on the axis.
    week = (timezone.localdate() - timedelta(days=6)).isoformat()
    page.locator('input[name="timestamp_after"]').fill(week)
    page.get_by_role("button", name="Show").click()
    settled(page)
    labels = chart_labels(page)
    assert any(re.fullmatch(r"[A-Z][a-z]{2} \d\d", label) for label in labels), labels
    first = page.locator("details.chart-data").first
    first.locator("summary").click()
    moments = first.locator("tbody td.nowrap").all_inner_texts()
    assert len(moments) >= 3 and all(m.endswith("00:00") for m in moments), moments
    times = time_labels(page)
    assert len(times) == len(set(times)) >= 3, times
    expect(page.locator("#metrics-table .table-meta")).to_contain_text("11 samples")
    assert time_labels_apart(page)
    screenshot(page, f"metrics-daily-{width}")
