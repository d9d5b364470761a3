"""What a refused request leaves behind: its SyncLog names the models it asked for (so the logs page's
model filter finds it), its PerformanceMetrics sample carries the log's status (so it is no throughput)
and points at that log. Through the API, for a push, a pull and WatermelonDB's pull and push."""

from __future__ import annotations

import uuid

import pytest

from sbsync.demo.shop.models import Customer
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


def test_a_partial_push_applies_and_counts_as_throughput_only_the_records_it_wrote(
    trio, api, settings, staff_user
):
    settings.SBSYNC = {**settings.SBSYNC, "EXCLUDE_MODELS": ["shop.Report"]}
    records = [{"_model": "shop.Customer", "name": f"c{n}"} for n in range(7)]
    records += [{"_model": "shop.Report", "report_type": "X"}] * 3

    response = api(trio.alice).post("push/", {"data": records})

    log, metric = only_log()
    assert response.status_code == 200
    assert (log.object_count, log.success_count, log.error_count) == (10, 7, 3)
    assert (metric.batch_size, metric.records_applied) == (10, 7)
    assert metric.records_per_second == pytest.approx(7 / metric.processing_time)
    throughput = api(staff_user).get("performance/").json()["throughput"]["PUSH"]
    assert (throughput["records"], throughput["refused"]) == (7, 0)
    assert throughput["records_per_second"] == round(7 / metric.processing_time, 1)


def test_a_dry_run_applies_no_records(trio, api):
    response = api(trio.alice).post(
        "push/", {"data": [{"_model": "shop.Customer", "name": "Ann"}] * 2, "dry_run": True}
    )

    log, metric = only_log()
    assert response.status_code == 200
    assert (log.status, log.success_count) == (LogStatus.SUCCESS, 2)
    assert (metric.batch_size, metric.records_applied) == (2, 0)
    assert Customer.objects.filter(name="Ann").count() == 0


def test_a_push_with_a_bad_envelope_leaves_a_redacted_error_log_and_a_refused_sample(trio, api):
    response = api(trio.alice).post(
        "push/", {"data": [{"_model": "shop.Order", "amount": "1"}], "password": "hunter2"}
    )

    log, metric = only_log()
    assert response.status_code == 400
    assert (log.status, log.operation, log.user, log.organization) == (
        LogStatus.ERROR,
        "PUSH",
        trio.alice,
        trio.acme,
    )
    assert (log.errors[0]["error"], log.errors[0]["status"]) == ("validation_error", 400)
    assert log.error_message == response.json()["detail"]
    assert log.model_names == ["shop.Order"]
    assert log.request_data["password"] == "***"
    assert (metric.status, metric.operation_type, metric.batch_size, metric.records_applied) == (
        LogStatus.ERROR,
        "PUSH",
        1,
        0,
    )


def test_a_push_of_an_unknown_model_is_logged_under_the_label_as_sent(trio, api):
    response = api(trio.alice).post(
        "push/", {"data": [{"_model": "shop.customer", "name": "A"}, {"_model": "shop.Nope", "x": 1}]}
    )

    log, metric = only_log()
    assert response.status_code == 400
    assert response.json()["error"] == "unknown_model"
    assert log.errors[0]["error"] == "unknown_model"
    assert log.model_names == ["shop.Customer", "shop.Nope"]
    assert metric.model_name == "shop.Customer,shop.Nope"
    assert not Customer.objects.filter(name="A").exists()


def test_pushes_refused_for_size_json_or_organization_are_logged_with_what_could_be_read(trio, api, settings):
    settings.SBSYNC = {**settings.SBSYNC, "MAX_PUSH_RECORDS": 2}
    too_many = api(trio.alice).post("push/", {"data": [{"_model": "shop.Customer", "name": "A"}] * 3})
    not_json = api(trio.alice).post("push/", '{"data": [')
    stranger = api(trio.alice, organization="globex").post("push/", {"data": []})

    logs = list(SyncLog.objects.order_by("id"))
    assert [r.status_code for r in (too_many, not_json, stranger)] == [413, 400, 403]
    assert [(log.errors[0]["error"], log.errors[0]["status"]) for log in logs] == [
        ("too_many_records", 413),
        ("malformed_json", 400),
        ("not_a_member", 403),
    ]
    assert [(log.organization, log.model_names, log.object_count) for log in logs] == [
        (trio.acme, ["shop.Customer"], 3),
        (None, [], 0),
        (None, [], 0),
    ]
    assert set(PerformanceMetrics.objects.values_list("status", "log_id")) == {
        (LogStatus.ERROR, log.pk) for log in logs
    }


def test_unauthenticated_and_throttled_pushes_leave_no_log(trio, api, settings):
    settings.SBSYNC = {**settings.SBSYNC, "REQUEST_THROTTLE_RATE": "1/min"}
    client = api(trio.alice)
    client.post("push/", {"data": []})
    SyncLog.objects.all().delete()
    PerformanceMetrics.objects.all().delete()

    throttled = client.post("push/", {"bad": "envelope"})
    anonymous = api().post("push/", {"bad": "envelope"})

    assert (throttled.status_code, anonymous.status_code) == (429, 401)
    assert not SyncLog.objects.exists() and not PerformanceMetrics.objects.exists()


def test_watermelon_pushes_refused_before_the_push_runs_are_logged(trio, api, settings):
    client = api(trio.alice)
    created = [{"id": str(uuid.uuid4()), "name": "Secret Ann", "department": ""} for _ in range(2)]
    changes = {
        "shop_customer": {"created": created, "updated": [], "deleted": []},
        "shop_order": {"created": [], "updated": [], "deleted": []},
    }
    no_timestamp = client.post("watermelon/", {"changes": changes})
    unknown_timestamp = client.post("watermelon/?last_pulled_at=123456", {"changes": changes})
    settings.SBSYNC = {**settings.SBSYNC, "MAX_PUSH_RECORDS": 1}
    timestamp = client.get("watermelon/", data={"last_pulled_at": "null"}).json()["timestamp"]
    too_many = client.post(f"watermelon/?last_pulled_at={timestamp}", {"changes": changes})

    pushes = list(SyncLog.objects.filter(operation="PUSH").order_by("id"))
    assert [r.status_code for r in (no_timestamp, unknown_timestamp, too_many)] == [400, 410, 413]
    assert [(log.status, log.errors[0]["status"]) for log in pushes] == [
        (LogStatus.ERROR, 400),
        (LogStatus.ERROR, 410),
        (LogStatus.ERROR, 413),
    ]
    assert {(tuple(log.model_names), log.object_count, log.organization) for log in pushes} == {
        (("shop.Customer",), 2, trio.acme)
    }
    assert (
        list(
            PerformanceMetrics.objects.filter(operation_type="PUSH").values_list("status", "records_applied")
        )
        == [(LogStatus.ERROR, 0)] * 3
    )
    # The log keeps the query and each table's record counts, never the values sent.
    assert pushes[2].request_data == {
        "watermelon": {"last_pulled_at": str(timestamp)},
        "changes": {"shop_customer": {"created": 2, "updated": 0, "deleted": 0}},
    }
    assert "Secret Ann" not in str([log.request_data for log in pushes])


def test_a_watermelon_pull_past_the_horizon_is_logged_as_refused(trio, api):
    response = api(trio.alice).get("watermelon/", data={"last_pulled_at": "123456"})

    log, metric = only_log()
    assert response.status_code == 410
    assert (log.status, log.errors[0]["status"], metric.status) == (LogStatus.ERROR, 410, LogStatus.ERROR)
