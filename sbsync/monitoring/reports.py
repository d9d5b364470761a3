"""Daily sync statistics per organization and model, computed from the sync logs."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Avg, Count, Q, Sum
from django.utils import timezone

from sbsync.enums import LogStatus, Operation
from sbsync.models import SyncLog, SyncReport


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The start of ``day`` and of the next day in the current time zone (TIME_ZONE)."""
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


def generate_sync_report(*, day: date) -> int:
    """Replace the SyncReport rows of ``day`` with statistics from that day's sync logs, one row per
    organization and model. Running it again for the same day gives the same rows.

    A request is counted under its log's ``model_name`` (the first model of the request, as the seed
    recorded it), so each request counts once. Logs that belong to no organization (requests refused
    before one was chosen, or of a deleted organization) are left out. ``errors`` counts requests that
    ended in error.

    Side effects: deletes and inserts SyncReport rows of ``day`` in one transaction. Returns the rows.
    """
    start, end = day_bounds(day)
    rows = (
        SyncLog.objects.filter(timestamp__gte=start, timestamp__lt=end, organization__isnull=False)
        .values("organization_id", "model_name")
        .annotate(
            pushes=Count("pk", filter=Q(operation=Operation.PUSH)),
            pulls=Count("pk", filter=Q(operation=Operation.PULL)),
            records_pushed=Sum("object_count", filter=Q(operation=Operation.PUSH), default=0),
            records_pulled=Sum("object_count", filter=Q(operation=Operation.PULL), default=0),
            errors=Count("pk", filter=Q(status=LogStatus.ERROR)),
            average_processing_time=Avg("processing_time"),
        )
        .order_by("organization_id", "model_name")
    )
    reports = [SyncReport(date=day, **row) for row in rows]
    with transaction.atomic():
        SyncReport.objects.filter(date=day).delete()
        SyncReport.objects.bulk_create(reports)
    return len(reports)
