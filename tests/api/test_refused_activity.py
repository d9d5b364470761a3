"""What a refused request leaves behind: its SyncLog names the models it asked for (so the logs page's
model filter finds it), its PerformanceMetrics sample carries the log's status (so it is no throughput)
and points at that log. Through the API, for a push, a pull and WatermelonDB's pull and push."""

from __future__ import annotations

import pytest

from sbsync.enums import LogStatus
from sbsync.models import PerformanceMetrics, SyncLog

pytestmark = pytest.mark.django_db


def only_log() -> tuple[SyncLog, PerformanceMetrics]:
    log = SyncLog.objects.get()
    return log, PerformanceMetrics.objects.get(log=log)


def test_a_push_of_a_forbidden_model_names_it_and_is_no_throughput(trio, api, settings):
    settings.SBSYNC = {**settings.SBSYNC, "EXCLUDE_MODELS": ["shop.Report"]}

    response = api(trio.alice).post("push/", {"data": [{"_model": "shop.report", "report_type": "X"}] * 3})

    log, metric = only_log()
    assert response.status_code == 403
    assert response.json()["sync_id"] == str(log.code)
    assert (log.status, log.model_name, log.model_names, log.error_count) == (
        LogStatus.ERROR,
        "shop.Report",
        ["shop.Report"],
        3,
    )
    assert (metric.status, metric.model_name, metric.batch_size) == (LogStatus.ERROR, "shop.Report", 3)
    assert metric.records_per_second is None


def test_a_push_whose_every_record_is_invalid_names_each_model_in_the_order_sent(trio, api):
    response = api(trio.alice).post(
        "push/",
        {
            "data": [
                {"_model": "shop.Order", "amount": "not a number"},
                {"_model": "shop.Customer", "name": ""},
                {"_model": "shop.Order", "amount": "also not"},
            ]
        },
    )

    log, metric = only_log()
    assert response.status_code == 400
    assert log.model_names == ["shop.Order", "shop.Customer"]
    assert metric.status == LogStatus.ERROR


def test_a_partial_push_names_the_refused_model_beside_the_written_one(trio, api, settings):
    settings.SBSYNC = {**settings.SBSYNC, "EXCLUDE_MODELS": ["shop.Report"]}

    response = api(trio.alice).post(
        "push/",
        {"data": [{"_model": "shop.Customer", "name": "Ann"}, {"_model": "shop.Report", "report_type": "X"}]},
    )

    log, metric = only_log()
    assert response.status_code == 200
    assert (log.status, log.model_names) == (LogStatus.WARNING, ["shop.Customer", "shop.Report"])
    assert metric.status == LogStatus.WARNING and metric.records_per_second is not None


def test_a_refused_pull_names_its_models_and_its_sample_points_at_its_log(trio, api):
    response = api(trio.alice).post("pull/", {"models": {"shop.Customer": "c:garbage"}})

    log, metric = only_log()
    assert response.status_code == 400
    assert log.model_names == ["shop.Customer"]
    assert (metric.status, metric.log_id) == (LogStatus.ERROR, log.pk)


def test_a_refused_watermelon_pull_names_the_tables_it_asked_for(trio, api):
    response = api(trio.alice).get("watermelon/", data={"last_pulled_at": "garbage"})

    log, metric = only_log()
    assert response.status_code == 400
    assert log.model_names == ["shop.Customer", "shop.Order", "shop.Product", "shop.Report"]
    assert metric.status == LogStatus.ERROR


def test_a_watermelon_pull_refused_before_its_organization_is_known_names_none(trio, api):
    response = api(trio.alice, organization="globex").get("watermelon/", data={"last_pulled_at": "null"})

    log, _ = only_log()
    assert response.status_code == 403
    assert (log.organization, log.model_names) == (None, [])


def test_a_watermelon_push_to_a_forbidden_table_names_its_model(trio, api, settings):
    client = api(trio.alice)
    timestamp = client.get("watermelon/", data={"last_pulled_at": "null"}).json()["timestamp"]
    settings.SBSYNC = {**settings.SBSYNC, "EXCLUDE_MODELS": ["shop.Report"]}

    response = client.post(
        f"watermelon/?last_pulled_at={timestamp}",
        {
            "changes": {
                "shop_report": {"created": [{"id": "1", "report_type": "X"}], "updated": [], "deleted": []}
            }
        },
    )

    log = SyncLog.objects.filter(operation="PUSH").get()
    assert response.status_code == 403
    assert (log.status, log.model_names) == (LogStatus.ERROR, ["shop.Report"])
    assert PerformanceMetrics.objects.get(log=log).status == LogStatus.ERROR
