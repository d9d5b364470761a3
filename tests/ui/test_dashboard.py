from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from sbsync.enums import LogStatus, Operation
from sbsync.models import Membership, SyncLog, SyncReport
from sbsync.monitoring.reports import day_bounds
from sbsync.monitoring.stats import log_timings
from tests.factories import make_organization, make_sync_log
from tests.ui.conftest import HTMX

PAGE = reverse("sbsync:dashboard")


def start_of_today():
    return day_bounds(timezone.localdate())[0]


def stats(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-stat="([\w-]+)">([^<]+)</dd>', html))


def test_dashboard_counts_today_only(staff_client, trio):
    yesterday = start_of_today() - timedelta(minutes=1)
    make_sync_log(organization=trio.acme, operation=Operation.PUSH, object_count=10, processing_time=0.2)
    # A partial push: 3 of its 5 records refused, so it moved 2.
    make_sync_log(
        organization=trio.acme,
        operation=Operation.PUSH,
        status=LogStatus.WARNING,
        object_count=5,
        success_count=2,
        error_count=3,
        processing_time=0.4,
    )
    make_sync_log(
        organization=trio.acme,
        operation=Operation.PULL,
        status=LogStatus.ERROR,
        object_count=4,
        processing_time=1.5,
    )
    make_sync_log(organization=trio.acme, operation=Operation.PUSH, timestamp=yesterday, processing_time=9.0)
    make_organization(is_active=False)
    Membership.objects.filter(user=trio.bob).update(is_active=False)

    response = staff_client.get(PAGE)

    timings = log_timings(SyncLog.objects.since(start_of_today()))
    assert stats(response.content.decode()) == {
        "organizations": "2",
        "users": "2",
        "enabled-models": "4",
        "pushes": "2",
        "pulls": "1",
        "errors": "1",
        "records": "12",
        "average": f"{timings.average * 1000:.0f} ms",
        "p95": "1,500 ms",
        "maximum": "1,500 ms",
    }


def test_dashboard_lists_the_latest_activity_newest_first(staff_client, trio):
    old = make_sync_log(
        organization=trio.acme, user=trio.alice, timestamp=timezone.now() - timedelta(hours=2)
    )
    new = make_sync_log(organization=trio.globex, user=trio.charlie, operation=Operation.PULL)

    response = staff_client.get(PAGE)

    assert re.findall(r"/logs/([0-9a-f-]{36})/", response.content.decode()) == [str(new.code), str(old.code)]


def test_dashboard_shows_the_latest_daily_report(staff_client, trio):
    SyncReport.objects.create(
        date=date(2026, 3, 1), organization=trio.acme, model_name="shop.Order", pushes=100
    )
    SyncReport.objects.create(
        date=date(2026, 3, 2), organization=trio.acme, model_name="shop.Order", pushes=3, errors=1
    )
    SyncReport.objects.create(
        date=date(2026, 3, 2), organization=trio.globex, model_name="shop.Customer", pushes=4, pulls=7
    )

    response = staff_client.get(PAGE)

    html = response.content.decode()
    assert "Monday, March 2, 2026 · 2 organizations" in html
    assert re.findall(r"<dt>(\w[\w ]+)</dt><dd>(\d+)</dd>", html) == [
        ("Pushes", "7"),
        ("Pulls", "7"),
        ("Records pushed", "0"),
        ("Records pulled", "0"),
        ("Errors", "1"),
    ]


def test_dashboard_htmx_poll_gets_only_the_live_region(staff_client, trio):
    response = staff_client.get(PAGE, headers=HTMX)

    html = response.content.decode()
    assert html.lstrip().startswith(
        '<div id="dashboard-live" hx-get="/api/sync/config/" hx-trigger="every 15s"'
    )
    assert "<html" not in html
    assert response["Vary"] == "HX-Request, Cookie"


@pytest.mark.parametrize("item_count", [1, 3])
def test_dashboard_query_count_does_not_grow_with_activity(
    staff_client, trio, django_assert_num_queries, item_count
):
    for _ in range(item_count):
        make_sync_log(organization=trio.acme, user=trio.alice)

    with django_assert_num_queries(11):
        staff_client.get(PAGE)
