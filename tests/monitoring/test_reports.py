from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.utils import timezone

from sbsync.enums import LogStatus, Operation
from sbsync.models import SyncReport
from sbsync.monitoring.reports import generate_sync_report
from tests.factories import make_organization, make_sync_log

DAY = date(2026, 11, 20)


def _at(day: date, hour: int, minute: int = 0):
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def _rows(day: date) -> list[tuple]:
    return list(
        SyncReport.objects.filter(date=day)
        .order_by("organization__slug", "model_name")
        .values_list(
            "organization__slug",
            "model_name",
            "pushes",
            "pulls",
            "records_pushed",
            "records_pulled",
            "errors",
            "average_processing_time",
        )
    )


@pytest.mark.django_db
def test_generate_sync_report_counts_per_organization_and_model():
    acme, globex = make_organization(slug="acme"), make_organization(slug="globex")
    make_sync_log(organization=acme, timestamp=_at(DAY, 0, 0), object_count=10, processing_time=0.2)
    make_sync_log(
        organization=acme, timestamp=_at(DAY, 9), object_count=5, processing_time=0.4, status=LogStatus.ERROR
    )
    make_sync_log(
        organization=acme,
        timestamp=_at(DAY, 23, 59),
        operation=Operation.PULL,
        object_count=7,
        processing_time=0.6,
    )
    make_sync_log(
        organization=acme,
        timestamp=_at(DAY, 12),
        model_name="shop.Order",
        object_count=3,
        processing_time=1.0,
    )
    make_sync_log(
        organization=globex,
        timestamp=_at(DAY, 12),
        operation=Operation.PULL,
        object_count=2,
        processing_time=0.5,
    )

    stored = generate_sync_report(day=DAY)

    assert stored == 3
    assert _rows(DAY) == [
        ("acme", "shop.Customer", 2, 1, 15, 7, 1, pytest.approx(0.4)),
        ("acme", "shop.Order", 1, 0, 3, 0, 0, pytest.approx(1.0)),
        ("globex", "shop.Customer", 0, 1, 0, 2, 0, pytest.approx(0.5)),
    ]


@pytest.mark.django_db
def test_generate_sync_report_leaves_out_other_days_and_logs_without_organization():
    acme = make_organization(slug="acme")
    make_sync_log(organization=acme, timestamp=_at(DAY, 12), object_count=4)
    make_sync_log(organization=acme, timestamp=_at(DAY - timedelta(days=1), 23, 59), object_count=100)
    make_sync_log(organization=acme, timestamp=_at(DAY + timedelta(days=1), 0, 0), object_count=100)
    make_sync_log(organization=None, timestamp=_at(DAY, 12), object_count=100)

    generate_sync_report(day=DAY)

    assert _rows(DAY) == [("acme", "shop.Customer", 1, 0, 4, 0, 0, pytest.approx(0.05))]


@pytest.mark.django_db
def test_generate_sync_report_again_replaces_the_days_rows_and_keeps_other_days():
    acme = make_organization(slug="acme")
    make_sync_log(organization=acme, timestamp=_at(DAY, 8), object_count=4)
    make_sync_log(organization=acme, timestamp=_at(DAY - timedelta(days=1), 8), object_count=9)
    generate_sync_report(day=DAY - timedelta(days=1))
    generate_sync_report(day=DAY)
    make_sync_log(organization=acme, timestamp=_at(DAY, 9), model_name="shop.Order", object_count=1)

    generate_sync_report(day=DAY)

    assert _rows(DAY) == [
        ("acme", "shop.Customer", 1, 0, 4, 0, 0, pytest.approx(0.05)),
        ("acme", "shop.Order", 1, 0, 1, 0, 0, pytest.approx(0.05)),
    ]
    assert _rows(DAY - timedelta(days=1)) == [("acme", "shop.Customer", 1, 0, 9, 0, 0, pytest.approx(0.05))]


@pytest.mark.django_db
def test_generate_sync_report_of_a_quiet_day_removes_stale_rows():
    acme = make_organization(slug="acme")
    SyncReport.objects.create(date=DAY, organization=acme, model_name="shop.Customer", pushes=99)

    stored = generate_sync_report(day=DAY)

    assert stored == 0
    assert _rows(DAY) == []


@pytest.mark.django_db
def test_generate_sync_report_cuts_days_in_the_configured_time_zone(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    acme = make_organization(slug="acme")
    make_sync_log(
        organization=acme,
        timestamp=datetime.combine(DAY - timedelta(days=1), time(23, 30), tzinfo=UTC),
        object_count=3,
    )

    generate_sync_report(day=DAY)

    assert _rows(DAY) == [("acme", "shop.Customer", 1, 0, 3, 0, 0, pytest.approx(0.05))]
