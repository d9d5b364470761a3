from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test import Client

from sbsync.demo.shop.models import Customer, Report
from sbsync.enums import Action
from sbsync.models import IdempotencyRecord, PerformanceMetrics, StampCheckpoint, SyncLog, SyncRecord
from sbsync.sync.activity import log_file_for
from tests.api.conftest import token_for
from tests.factories import make_customer, make_membership, make_permission

PUSH = "push/"
UUID_A = "7d0e3c0a-0000-4000-8000-00000000000a"
UUID_B = "7d0e3c0a-0000-4000-8000-00000000000b"


def assert_error_shape(body, code):
    """sbsync/docs/protocol.md section 1: {"error": code, "detail": sentence, "errors": {field: [messages]}}."""
    assert body["error"] == code
    assert isinstance(body["detail"], str) and body["detail"]
    if "errors" in body:
        assert all(
            isinstance(m, list) and all(isinstance(x, str) for x in m) for m in body["errors"].values()
        )


def nothing_written():
    return (Customer.objects.count(), SyncRecord.objects.count(), Customer.history.count()) == (0, 0, 0)


def test_seed_example_payload_creates_the_customer_and_answers_like_the_seed(trio, api):
    body = {
        "data": [
            {
                "_model": "shop.Customer",
                "name": "John Doe",
                "age": 45,
                "department": "SALES",
                "assigned_manager_id": trio.alice.pk,
            }
        ]
    }

    response = api(trio.alice).post(PUSH, body)

    data = response.json()
    customer = Customer.objects.get()
    assert response.status_code == 200
    assert (data["status"], data["success_count"], data["error_count"]) == ("success", 1, 0)
    assert data["processed_models"] == {"shop.Customer": {"created": 1, "updated": 0, "deleted": 0}}
    assert data["results"] == [
        {"index": 0, "_model": "shop.Customer", "id": str(customer.pk), "status": "created", "_version": 1}
    ]
    assert data["processing_time"] > 0
    assert data["sync_id"] == str(SyncLog.objects.get().code)
    assert (customer.name, customer.assigned_manager, customer.organization) == (
        "John Doe",
        trio.alice,
        trio.acme,
    )


def test_seed_report_payload_with_customer_id_works(trio, api):
    customer = make_customer(organization=trio.acme)
    body = {
        "data": [
            {
                "_model": "shop.Report",
                "customer_id": str(customer.pk),
                "report_type": "ANALYSIS",
                "results": "Positive",
            }
        ]
    }

    response = api(trio.alice).post(PUSH, body)

    assert response.json()["results"][0]["status"] == "created"
    assert Report.objects.get().customer == customer


def test_mixed_push_is_partial_with_per_record_results(trio, api):
    customer = make_customer(organization=trio.acme, name="v1")
    customer.name = "v2"
    customer.save()
    body = {
        "data": [
            {"_model": "shop.Customer", "id": UUID_A, "name": "New"},
            {"_model": "shop.Customer", "id": str(customer.pk), "name": "mine", "_version": 1},
            {"_model": "shop.Customer", "name": ""},
        ]
    }

    response = api(trio.alice).post(PUSH, body)

    data = response.json()
    assert response.status_code == 200
    assert (data["status"], data["success_count"], data["error_count"]) == ("partial", 1, 2)
    assert [r["status"] for r in data["results"]] == ["created", "conflict", "rejected"]
    assert data["results"][1]["server"]["name"] == "v2"


def test_push_whose_only_failures_are_conflicts_is_200_error(trio, api):
    customer = make_customer(organization=trio.acme)

    response = api(trio.alice).post(
        PUSH, {"data": [{"_model": "shop.Customer", "id": str(customer.pk), "name": "x", "_version": 7}]}
    )

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["error_count"]) == ("error", 1)


def test_all_rejected_is_400_with_the_error_shape_and_the_results(trio, api):
    response = api(trio.alice).post(PUSH, {"data": [{"_model": "shop.Customer", "name": "", "age": "x"}]})

    body = response.json()
    assert response.status_code == 400
    assert_error_shape(body, "validation_error")
    assert body["errors"] == {
        "data.0.age": ["Give a whole number."],
        "data.0.name": ["This field cannot be blank."],
    }
    assert (body["status"], body["success_count"], body["error_count"]) == ("error", 0, 1)
    assert body["results"][0]["status"] == "rejected"
    assert nothing_written()


def test_a_disabled_model_is_403_forbidden_per_record(trio, api, settings):
    settings.SBSYNC = {**settings.SBSYNC, "EXCLUDE_MODELS": ["shop.Report"]}

    response = api(trio.alice).post(PUSH, {"data": [{"_model": "shop.Report", "report_type": "X"}]})

    data = response.json()
    assert response.status_code == 403
    assert_error_shape(data, "forbidden")
    assert data["results"] == [
        {
            "index": 0,
            "_model": "shop.Report",
            "status": "forbidden",
            "detail": "You may not push records of this model.",
        }
    ]
    assert "processed_models" in data and data["processed_models"] == {}


def test_a_label_that_is_no_model_of_the_project_is_400_unknown_model_naming_it(trio, api):
    body = {
        "data": [
            {"_model": "shop.Customer", "name": "Would be written"},
            {"_model": "shop.NoSuchModel", "report_type": "X"},
            {"_model": "sb_sync.Organization", "name": "x"},
        ]
    }

    response = api(trio.alice).post(PUSH, body)

    data = response.json()
    assert response.status_code == 400
    assert_error_shape(data, "unknown_model")
    assert data["detail"].startswith("Unknown model: 'shop.NoSuchModel', 'sb_sync.Organization'.")
    assert "use sbsync.Organization" in data["detail"]
    assert set(data["errors"]) == {"data.1._model", "data.2._model"}
    assert nothing_written()


def test_atomic_push_with_a_failure_is_409_and_writes_nothing(trio, api):
    body = {
        "atomic": True,
        "data": [
            {"_model": "shop.Customer", "id": UUID_A, "name": "ok"},
            {"_model": "shop.Customer", "id": UUID_B, "name": "x", "_version": 3},
        ],
    }

    response = api(trio.alice).post(PUSH, body)

    data = response.json()
    assert response.status_code == 409
    assert_error_shape(data, "atomic_rejected")
    assert [r["status"] for r in data["results"]] == ["created", "conflict"]
    assert nothing_written()


def test_dry_run_answers_like_a_push_and_writes_nothing(trio, api):
    response = api(trio.alice).post(
        PUSH, {"dry_run": True, "data": [{"_model": "shop.Customer", "id": UUID_A, "name": "ok"}]}
    )

    data = response.json()
    assert response.status_code == 200
    assert (data["dry_run"], data["results"][0]["status"]) == (True, "created")
    assert nothing_written()


@pytest.mark.parametrize(
    ("raw", "content_type", "status", "code"),
    [
        (b'{"data": [', "application/json", 400, "malformed_json"),
        (b"data=1", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
        (b"<data/>", "application/xml", 415, "unsupported_media_type"),
        (b"[1, 2]", "application/json", 400, "validation_error"),
        (b'{"data": {"_model": "shop.Customer"}}', "application/json", 400, "validation_error"),
        (b'{"records": []}', "application/json", 400, "validation_error"),
        (b'{"data": [], "extra": 1}', "application/json", 400, "validation_error"),
        (b'{"data": ["shop.Customer"]}', "application/json", 400, "validation_error"),
        (b'{"data": [{"name": "x"}]}', "application/json", 400, "validation_error"),
        (b'{"data": [{"_model": 5, "name": "x"}]}', "application/json", 400, "validation_error"),
        (b'{"data": [], "atomic": "yes"}', "application/json", 400, "validation_error"),
        (b'{"data": [], "batch_id": 5}', "application/json", 400, "validation_error"),
        (
            b'{"data": [{"_model": "shop.Customer", "name": "x", "bogus": 1}]}',
            "application/json",
            400,
            "validation_error",
        ),
        (
            b'{"data": [{"_model": "shop.Customer", "name": "x", "age": "old"}]}',
            "application/json",
            400,
            "validation_error",
        ),
        (
            b'{"data": [{"_model": "shop.Customer", "id": "nope", "name": "x"}]}',
            "application/json",
            400,
            "validation_error",
        ),
        (
            b'{"data": [{"_model": "shop.Customer", "name": "x", "age": 1e400}]}',
            "application/json",
            400,
            "malformed_json",
        ),
        (
            b'{"data": [{"_model": "shop.Customer", "name": "' + b"x" * 5000 + b'"}]}',
            "application/json",
            400,
            "validation_error",
        ),
        (b'{"data": [{"_model": "shop.NoSuch", "name": "x"}]}', "application/json", 400, "unknown_model"),
    ],
)
def test_bad_input_is_a_4xx_of_the_error_shape_and_writes_nothing(trio, raw, content_type, status, code):
    client = Client(headers={"Authorization": f"Bearer {token_for(trio.alice)}"})

    response = client.post(f"/api/sync/{PUSH}", raw, content_type=content_type)

    assert response.status_code == status
    assert_error_shape(response.json(), code)
    assert nothing_written()


@pytest.mark.parametrize("depth", [40, 2000])
def test_deeply_nested_values_are_refused_before_anything_runs(trio, api, depth):
    value = b"[" * depth + b"1" + b"]" * depth
    raw = b'{"data": [{"_model": "shop.Customer", "name": "x", "age": ' + value + b"}]}"

    response = api(trio.alice).post(PUSH, raw)

    assert response.status_code == 400
    assert_error_shape(response.json(), "malformed_json" if depth > 1024 else "validation_error")
    assert nothing_written()


def test_body_over_the_size_limit_is_413(trio, api, settings):
    settings.SBSYNC = {**settings.SBSYNC, "MAX_BODY_BYTES": 2000}

    response = api(trio.alice).post(PUSH, {"data": [{"_model": "shop.Customer", "name": "x" * 3000}]})

    assert response.status_code == 413
    assert_error_shape(response.json(), "payload_too_large")
    assert nothing_written()


def test_more_records_than_the_limit_is_413(trio, api, settings):
    settings.SBSYNC = {**settings.SBSYNC, "MAX_PUSH_RECORDS": 3}

    response = api(trio.alice).post(
        PUSH, {"data": [{"_model": "shop.Customer", "name": f"c{n}"} for n in range(4)]}
    )

    assert response.status_code == 413
    assert_error_shape(response.json(), "too_many_records")
    assert nothing_written()


def test_push_without_a_token_is_401_with_bearer_challenge(trio, api):
    response = api().post(PUSH, {"data": [{"_model": "shop.Customer", "name": "x"}]})

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert_error_shape(response.json(), "not_authenticated")
    assert nothing_written()


def test_pushes_are_throttled_per_token_with_retry_after(trio, api, settings):
    settings.SBSYNC = {**settings.SBSYNC, "REQUEST_THROTTLE_RATE": "2/min"}
    client = api(trio.alice)
    for n in range(2):
        client.post(PUSH, {"data": [{"_model": "shop.Customer", "name": f"c{n}"}]})

    response = client.post(PUSH, {"data": [{"_model": "shop.Customer", "name": "third"}]})

    assert response.status_code == 429
    assert_error_shape(response.json(), "throttled")
    assert int(response["Retry-After"]) >= 1
    assert sorted(Customer.objects.values_list("name", flat=True)) == ["c0", "c1"]


def test_user_of_several_organizations_must_name_one(trio, api):
    make_membership(user=trio.alice, organization=trio.globex, group=trio.owners)
    body = {"data": [{"_model": "shop.Customer", "name": "x"}]}

    ambiguous = api(trio.alice).post(PUSH, body)
    by_header = api(trio.alice, organization="globex").post(PUSH, body)
    by_body = api(trio.alice).post(PUSH, {**body, "organization": "acme"})

    assert ambiguous.status_code == 400
    assert_error_shape(ambiguous.json(), "organization_required")
    assert (by_header.status_code, by_body.status_code) == (200, 200)
    assert sorted(Customer.objects.values_list("organization__slug", flat=True)) == ["acme", "globex"]


def test_organization_the_user_is_not_a_member_of_is_403(trio, api):
    response = api(trio.alice, organization="globex").post(
        PUSH, {"data": [{"_model": "shop.Customer", "name": "x"}]}
    )

    assert response.status_code == 403
    assert_error_shape(response.json(), "not_a_member")
    assert nothing_written()


def test_organization_in_the_body_must_be_a_slug(trio, api):
    response = api(trio.alice).post(PUSH, {"organization": 5, "data": []})

    assert response.status_code == 400
    assert_error_shape(response.json(), "validation_error")


@pytest.mark.parametrize("named", [{}, "globex"])
def test_body_organization_beside_the_header_must_be_the_same_slug(trio, api, named):
    make_membership(user=trio.alice, organization=trio.globex, group=trio.owners)
    body = {"organization": named, "data": [{"_model": "shop.Customer", "name": "x"}]}

    response = api(trio.alice, organization="acme").post(PUSH, body)
    same = api(trio.alice, organization="acme").post(PUSH, {**body, "organization": "acme"})

    assert response.status_code == 400
    assert_error_shape(response.json(), "validation_error")
    assert same.status_code == 200
    assert list(Customer.objects.values_list("organization__slug", flat=True)) == ["acme"]


def test_repeated_batch_id_replays_the_stored_answer_and_applies_once(trio, api):
    client = api(trio.alice)
    body = {"batch_id": "device-42:0007", "data": [{"_model": "shop.Customer", "name": "Once"}]}

    first = client.post(PUSH, body)
    second = client.post(PUSH, body)

    assert second.status_code == 200
    assert second.json() == first.json()
    assert Customer.objects.filter(name="Once").count() == 1
    assert SyncLog.objects.count() == 1


def test_idempotency_key_header_works_like_batch_id(trio, api):
    client = api(trio.alice)
    body = {"data": [{"_model": "shop.Customer", "name": "Once"}]}

    first = client.post(PUSH, body, headers={"Idempotency-Key": "k-1"})
    second = client.post(PUSH, {**body, "batch_id": "k-1"})

    assert second.json() == first.json()
    assert Customer.objects.count() == 1


def test_same_key_with_another_body_is_409_and_applies_nothing(trio, api):
    client = api(trio.alice)
    client.post(PUSH, {"batch_id": "b-1", "data": [{"_model": "shop.Customer", "name": "One"}]})

    response = client.post(PUSH, {"batch_id": "b-1", "data": [{"_model": "shop.Customer", "name": "Two"}]})

    assert response.status_code == 409
    assert_error_shape(response.json(), "idempotency_conflict")
    assert list(Customer.objects.values_list("name", flat=True)) == ["One"]


def test_keys_are_per_user_and_organization(trio, api):
    make_permission(
        organization=trio.acme, group=trio.members, model_label="shop.Customer", actions=Action.values
    )
    body = {"batch_id": "same", "data": [{"_model": "shop.Customer", "name": "x"}]}

    api(trio.alice).post(PUSH, body)
    api(trio.bob).post(PUSH, body)

    assert Customer.objects.count() == 2


def test_header_and_batch_id_must_agree(trio, api):
    response = api(trio.alice).post(PUSH, {"batch_id": "a", "data": []}, headers={"Idempotency-Key": "b"})

    assert response.status_code == 400
    assert_error_shape(response.json(), "validation_error")


def test_dry_runs_and_refused_pushes_store_no_answer(trio, api):
    client = api(trio.alice)

    client.post(
        PUSH, {"batch_id": "dry", "dry_run": True, "data": [{"_model": "shop.Customer", "name": "x"}]}
    )
    client.post(PUSH, {"batch_id": "bad", "data": [{"_model": "shop.Customer", "name": ""}]})
    retried = client.post(PUSH, {"batch_id": "bad", "data": [{"_model": "shop.Customer", "name": "fixed"}]})

    assert retried.status_code == 200
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["bad"]
    assert list(Customer.objects.values_list("name", flat=True)) == ["fixed"]


def test_expired_answers_are_forgotten(trio, api, settings):
    settings.SBSYNC = {**settings.SBSYNC, "IDEMPOTENCY_TTL": 0.000001}
    client = api(trio.alice)
    body = {"batch_id": "old", "data": [{"_model": "shop.Customer", "name": "x"}]}

    client.post(PUSH, body)
    client.post(PUSH, body)

    assert Customer.objects.count() == 2


def test_push_writes_a_sync_log_metrics_and_a_log_line_without_secrets(trio, api):
    body = {
        "data": [
            {"_model": "shop.Customer", "name": "ok", "password": "hunter2"},
            {"_model": "shop.Customer", "name": "fine"},
        ]
    }

    response = api(trio.alice).post(PUSH, body)

    log = SyncLog.objects.get()
    assert (log.user, log.organization, log.operation, log.status) == (
        trio.alice,
        trio.acme,
        "PUSH",
        "WARNING",
    )
    assert (log.object_count, log.success_count, log.error_count, log.model_names) == (
        2,
        1,
        1,
        ["shop.Customer"],
    )
    assert log.errors == [
        {
            "index": 0,
            "_model": "shop.Customer",
            "status": "rejected",
            "errors": {"password": ["Unknown field."]},
        }
    ]
    assert log.request_data["data"][0]["password"] == "***"
    assert "hunter2" not in json.dumps(log.request_data)
    assert log.processing_time == pytest.approx(response.json()["processing_time"], abs=1e-6)
    metric = PerformanceMetrics.objects.get()
    assert (metric.operation_type, metric.batch_size, metric.organization) == ("PUSH", 2, trio.acme)
    assert metric.query_count > 0 and metric.memory_usage > 0
    line = log_file_for(log.timestamp.date()).read_text().splitlines()[-1]
    assert ' - sb_sync - WARNING - PUSH request from user alice in Acme: {"status": "warning", ' in line
    assert '"models": {"shop.Customer": 2}, "records": 2, "succeeded": 1, "failed": 1' in line
    assert "hunter2" not in line


def test_async_push_is_queued_and_its_job_reports_the_push_answer(
    trio, api, django_capture_on_commit_callbacks
):
    client = api(trio.alice)

    with django_capture_on_commit_callbacks(execute=True):
        accepted = client.post(PUSH, {"async": True, "data": [{"_model": "shop.Customer", "name": "Later"}]})
    job = client.get(accepted.json()["status_url"].removeprefix("http://testserver/api/sync/"))

    assert accepted.status_code == 202
    assert accepted.json()["status_url"] == f"http://testserver/api/sync/jobs/{accepted.json()['job']}/"
    data = job.json()
    assert (data["status"], data["status_code"]) == ("done", 200)
    assert data["result"]["results"][0]["status"] == "created"
    assert Customer.objects.get().name == "Later"


def test_organizations_do_not_share_batch_ids(trio, api):
    make_membership(user=trio.alice, organization=trio.globex, group=trio.owners)
    body = {"batch_id": "shared", "data": [{"_model": "shop.Customer", "name": "x"}]}

    api(trio.alice, organization="acme").post(PUSH, body)
    api(trio.alice, organization="globex").post(PUSH, body)

    assert sorted(Customer.objects.values_list("organization__slug", flat=True)) == ["acme", "globex"]


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        ({"organization": "ac\x00me"}, {}),
        ({"organization": "a" * 51}, {}),
        ({"organization": "not a slug"}, {}),
        ({"batch_id": "key\x00"}, {}),
        ({}, {"Idempotency-Key": "key\x00"}),
    ],
)
def test_text_a_database_cannot_store_is_refused_before_any_query(trio, api, body, headers):
    response = api(trio.alice).post(
        PUSH, {**body, "data": [{"_model": "shop.Customer", "name": "x"}]}, headers=headers
    )

    assert response.status_code == 400
    assert_error_shape(response.json(), "validation_error")
    assert nothing_written()


def test_nul_characters_in_keys_and_values_are_rejected_records_and_the_answer_replays(trio, api):
    body = {
        "batch_id": "nul-1",
        "data": [
            {"_model": "shop.Customer", "name": "ok"},
            {"_model": "shop.Customer", "na\x00me": "x", "name": "y\x00"},
        ],
    }

    first = api(trio.alice).post(PUSH, body)
    again = api(trio.alice).post(PUSH, body)

    assert first.status_code == 200
    assert [r["status"] for r in first.json()["results"]] == ["created", "rejected"]
    assert set(first.json()["results"][1]["errors"]) == {"na\ufffdme", "name"}
    assert again.json() == first.json()
    assert list(Customer.objects.values_list("name", flat=True)) == ["ok"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="settings of PostgreSQL transactions")
@pytest.mark.django_db(transaction=True)
def test_a_push_checkpoints_its_positions_after_commit_and_leaves_no_setting_behind(trio, api):
    # The checkpoint (timestamp → position) is written after the push commits, asynchronously: for its
    # own transaction only, never for what the connection runs next.
    response = api(trio.alice).post("push/", {"data": [{"_model": "shop.Customer", "name": "Ann"}]})

    assert response.status_code == 200, response.json()
    record = SyncRecord.objects.get(scope=trio.acme.pk)
    checkpoint = StampCheckpoint.objects.get(scope=trio.acme.pk)
    assert checkpoint.seq == record.seq
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"
