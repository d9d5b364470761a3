"""The dashboard's figures. Counts and timings come from sbsync.sync.stats, so they match the API's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import Sum
from django.utils import timezone

from sbsync import discovery
from sbsync.models import Membership, Organization, SyncLog, SyncReport
from sbsync.sync.stats import TimingSummary, log_activity, log_timings

LATEST_ACTIVITY = 10


@dataclass(frozen=True)
class DailyReport:
    date: date
    totals: dict[str, Any]
    organizations: int


@dataclass(frozen=True)
class DashboardFigures:
    organizations: int
    users: int
    enabled_models: int
    today: dict[str, int]
    timings: TimingSummary
    latest: list[SyncLog]
    report: DailyReport | None
    since: datetime


def start_of_today(now: datetime | None = None) -> datetime:
    """Midnight of the current day in the current time zone (TIME_ZONE unless activated otherwise)."""
    local = timezone.localtime(now)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def latest_report() -> DailyReport | None:
    """The totals of the newest day that ``generate_sync_report`` wrote, over every organization."""
    newest = SyncReport.objects.order_by("-date").values_list("date", flat=True).first()
    if newest is None:
        return None
    rows = SyncReport.objects.filter(date=newest)
    totals = rows.aggregate(
        pushes=Sum("pushes", default=0),
        pulls=Sum("pulls", default=0),
        records_pushed=Sum("records_pushed", default=0),
        records_pulled=Sum("records_pulled", default=0),
        errors=Sum("errors", default=0),
    )
    return DailyReport(
        date=newest, totals=totals, organizations=rows.values("organization").distinct().count()
    )


def dashboard_figures(now: datetime | None = None) -> DashboardFigures:
    since = start_of_today(now)
    today = SyncLog.objects.since(since)
    return DashboardFigures(
        organizations=Organization.objects.active().count(),
        users=Membership.objects.active().values("user").distinct().count(),
        enabled_models=len(discovery.enabled_models()),
        today=log_activity(today),
        timings=log_timings(today),
        latest=list(SyncLog.objects.select_related("user", "organization")[:LATEST_ACTIVITY]),
        report=latest_report(),
        since=since,
    )
