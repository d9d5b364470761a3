"""The dashboard's figures. Counts and timings come from sbsync.monitoring.stats, so they match the API's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import Count, Sum
from django.utils import timezone

from sbsync import discovery
from sbsync.models import Membership, Organization, SyncLog, SyncReport
from sbsync.monitoring.reports import day_bounds
from sbsync.monitoring.stats import TimingSummary, log_activity, log_timings

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


def latest_report() -> DailyReport | None:
    """The totals of the newest day that ``generate_sync_report`` wrote, over every organization."""
    newest = SyncReport.objects.order_by("-date").values_list("date", flat=True).first()
    if newest is None:
        return None
    totals = SyncReport.objects.filter(date=newest).aggregate(
        pushes=Sum("pushes", default=0),
        pulls=Sum("pulls", default=0),
        records_pushed=Sum("records_pushed", default=0),
        records_pulled=Sum("records_pulled", default=0),
        errors=Sum("errors", default=0),
        organizations=Count("organization", distinct=True),
    )
    organizations = totals.pop("organizations")
    return DailyReport(date=newest, totals=totals, organizations=organizations)


def dashboard_figures() -> DashboardFigures:
    since, _ = day_bounds(timezone.localdate())
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
