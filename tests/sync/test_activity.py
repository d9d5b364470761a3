from __future__ import annotations

from sbsync.enums import LogStatus, Operation
from sbsync.models import Organization, PerformanceMetrics, SyncLog
from sbsync.sync.activity import day_log_files, log_file_for, measured, record_activity, redact
from tests.factories import make_organization, make_user


def test_measured_counts_queries_and_time(db):
    with measured() as measurement:
        list(Organization.objects.all())
        list(Organization.objects.all())

    assert measurement.queries == 2
    assert measurement.seconds > 0


def test_record_activity_writes_log_metrics_and_file_line(db):
    user, org = make_user(username="john"), make_organization(name="Acme")
    with measured() as measurement:
        pass

    log = record_activity(
        user=user,
        organization=org,
        operation=Operation.PUSH,
        status=LogStatus.WARNING,
        models=["shop.Customer", "shop.Order"],
        object_count=3,
        success_count=2,
        error_count=1,
        errors=[{"index": 2, "errors": {"name": ["required"]}}],
        request_data={"data": [1, 2, 3], "password": "s"},
        measurement=measurement,
    )

    stored = SyncLog.objects.get()
    assert stored == log
    assert (stored.model_name, stored.model_names, stored.object_count) == (
        "shop.Customer",
        ["shop.Customer", "shop.Order"],
        3,
    )
    assert stored.request_data == {"data": [1, 2, 3], "password": "***"}
    metric = PerformanceMetrics.objects.get()
    assert (metric.operation_type, metric.batch_size, metric.organization) == ("PUSH", 3, org)
    assert metric.memory_usage > 0
    line = log_file_for(log.timestamp.date()).read_text().splitlines()[-1]
    assert (
        ' - sb_sync - WARNING - PUSH request from user john in Acme: {"status": "warning", '
        '"models": ["shop.Customer", "shop.Order"], "records": 3, "succeeded": 2, "failed": 1, '
        '"failures": [{"index": 2, "fields": ["name"]}], "seconds": '
    ) in line


def test_redact_masks_secrets_and_caps_records():
    data = {"data": [{"name": "x" * 300, "token": "abc"}] * 100, "batch_id": "b1"}

    cleaned = redact(data, limit=1000)

    assert cleaned["batch_id"] == "b1"
    assert cleaned["data"][0]["token"] == "***"
    assert cleaned["data"][0]["name"].endswith("…") and len(cleaned["data"][0]["name"]) == 201
    assert len(cleaned["data"]) + cleaned["_data_omitted"] == 100
    assert len(repr(cleaned["data"])) <= 1000 + 300


def test_day_log_files_lists_only_day_named_files_oldest_first(settings, tmp_path):
    settings.SBSYNC = {**settings.SBSYNC, "LOG_DIR": str(tmp_path)}
    for name in ("sb_sync-2026-11-15.log", "sb_sync-2026-10-01.log", "other.log", "sb_sync-x.log"):
        (tmp_path / name).write_text("x")

    files = day_log_files()

    assert [(d.isoformat(), p.name) for d, p in files] == [
        ("2026-10-01", "sb_sync-2026-10-01.log"),
        ("2026-11-15", "sb_sync-2026-11-15.log"),
    ]
