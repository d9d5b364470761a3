from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from sbsync.demo.shop.models import Customer
from sbsync.enums import Action, LogStatus, Operation
from sbsync.models import PerformanceMetrics, SyncLog, UserSyncMetadata
from sbsync.sync.changes.index import compact_tombstones, stamp_pending
from tests.factories import make_customer, make_membership, make_order, make_permission

CUSTOMER = "shop.Customer"


def pull(client, models, **extra):
    return client.post("pull/", {"models": models, **extra})


def pull_to_end(client, labels, batch_size):
    cursors, pages = dict.fromkeys(labels), []
    while True:
        response = pull(client, cursors, batch_size=batch_size)
        assert response.status_code == 200, response.json()
        body = response.json()
        pages.append(body)
        cursors = {label: meta["cursor"] for label, meta in body["metadata"].items()}
        if not body["batch_info"]["has_more"]:
            return pages


def test_pull_answers_in_the_protocol_shape_with_json_values(trio, api):
    customer = make_customer(organization=trio.acme, name="Ann", age=30)
    order = make_order(organization=trio.acme, customer=customer, amount=Decimal("12.50"))

    response = pull(api(trio.alice), {"shop.Order": None}, batch_size=10)

    body = response.json()
    assert response.status_code == 200
    assert body["data"] == [
        {
            "_model": "shop.Order",
            "id": order.pk,
            "customer": str(customer.pk),
            "amount": "12.50",
            "status": "PENDING",
            "organization": trio.acme.pk,
            "created_at": order.created_at.isoformat().replace("+00:00", "Z"),
            "_version": 1,
        }
    ]
    assert body["deleted"] == []
    meta = body["metadata"]["shop.Order"]
    assert (meta["count"], meta["deleted"], meta["has_more"], meta["user_last_sync"]) == (1, 0, False, None)
    assert meta["cursor"].startswith("c:") and meta["last_sync"].endswith("Z")
    assert body["batch_info"] == {"batch_size": 10, "total_records": 1, "has_more": False}


def test_pulling_to_the_end_with_cursors_delivers_each_row_once(trio, api):
    made = {str(make_customer(organization=trio.acme).pk) for _ in range(7)}

    pages = pull_to_end(api(trio.alice), [CUSTOMER], batch_size=3)

    pulled = [r["id"] for p in pages for r in p["data"]]
    assert sorted(pulled) == sorted(made)
    assert [p["batch_info"]["total_records"] for p in pages] == [3, 3, 1]


def test_a_delete_reaches_the_client_as_a_tombstone(trio, api):
    client = api(trio.alice)
    customer = make_customer(organization=trio.acme)
    first = pull(client, {CUSTOMER: None}).json()
    pk = str(customer.pk)
    customer.delete()

    second = pull(client, {CUSTOMER: first["metadata"][CUSTOMER]["cursor"]}).json()

    assert second["deleted"] == [{"_model": CUSTOMER, "id": pk, "_version": 2}]
    assert second["metadata"][CUSTOMER]["deleted"] == 1


def test_the_default_batch_size_applies_when_none_is_sent(trio, api, settings):
    settings.SBSYNC = {**settings.SBSYNC, "DEFAULT_PULL_BATCH": 2}
    for _ in range(3):
        make_customer(organization=trio.acme)

    body = pull(api(trio.alice), {CUSTOMER: None}).json()

    assert body["batch_info"] == {"batch_size": 2, "total_records": 2, "has_more": True}


def test_the_organization_may_be_named_in_the_body(trio, api):
    make_membership(user=trio.alice, organization=trio.globex, group=trio.owners)
    make_customer(organization=trio.globex, name="globex row")
    make_customer(organization=trio.acme, name="acme row")

    ambiguous = pull(api(trio.alice), {CUSTOMER: None})
    named = pull(api(trio.alice), {CUSTOMER: None}, organization="globex")

    assert (ambiguous.status_code, ambiguous.json()["error"]) == (400, "organization_required")
    assert [r["name"] for r in named.json()["data"]] == ["globex row"]


def test_a_second_pull_reports_the_users_previous_sync_time(trio, api):
    client = api(trio.alice)
    first = pull(client, {CUSTOMER: None}).json()

    second = pull(client, {CUSTOMER: first["metadata"][CUSTOMER]["cursor"]}).json()

    assert second["metadata"][CUSTOMER]["user_last_sync"] == first["metadata"][CUSTOMER]["last_sync"]


def test_every_pull_leaves_a_sync_log_and_a_metrics_row(trio, api):
    make_customer(organization=trio.acme)
    make_customer(organization=trio.acme)

    pull(api(trio.alice), {CUSTOMER: None, "shop.Order": None}, batch_size=5)

    log = SyncLog.objects.get()
    assert (log.operation, log.status, log.user, log.organization) == (
        Operation.PULL,
        LogStatus.SUCCESS,
        trio.alice,
        trio.acme,
    )
    assert (log.model_names, log.object_count, log.success_count, log.error_count) == (
        [CUSTOMER, "shop.Order"],
        2,
        2,
        0,
    )
    metric = PerformanceMetrics.objects.get()
    assert (metric.operation_type, metric.batch_size, metric.organization) == ("PULL", 2, trio.acme)
    assert metric.query_count > 0


def test_a_rejected_pull_is_logged_as_an_error_and_records_no_sync(trio, api):
    response = pull(api(trio.alice), {CUSTOMER: "c:garbage"})

    log = SyncLog.objects.get()
    assert response.status_code == 400
    assert (log.status, log.organization, log.model_names, log.error_count) == (
        LogStatus.ERROR,
        trio.acme,
        [CUSTOMER],
        1,
    )
    assert log.errors == [{"error": "invalid_cursor", "detail": response.json()["detail"], "status": 400}]
    assert UserSyncMetadata.objects.count() == 0


@pytest.mark.parametrize(
    ("models", "stored"),
    [
        ({"shop.Cust\x00omer": None}, "shop.Cust\ufffdomer"),
        ({"x" * 300: None}, "x" * 100),
        ({CUSTOMER: "c:\x00"}, CUSTOMER),
    ],
)
def test_bad_input_a_database_cannot_store_is_still_logged(trio, api, models, stored):
    response = pull(api(trio.alice), models)

    log = SyncLog.objects.get()
    assert response.status_code == 400
    assert log.model_name == stored
    assert "\x00" not in str(log.request_data) + str(log.errors) + log.error_message


def test_a_role_without_can_pull_gets_403_naming_the_model(trio, api):
    make_permission(
        organization=trio.acme, group=trio.members, model_label=CUSTOMER, actions=[Action.PUSH, Action.READ]
    )
    make_permission(
        organization=trio.acme, group=trio.members, model_label="shop.Order", actions=[Action.PULL]
    )
    make_customer(organization=trio.acme)

    response = pull(api(trio.bob), {"shop.Order": None, CUSTOMER: None})

    assert response.status_code == 403
    assert response.json() == {
        "error": "forbidden",
        "detail": "Your role may not pull this model: shop.Customer.",
        "errors": {"models.shop.Customer": ["Your role may not pull this model."]},
    }
    assert UserSyncMetadata.objects.count() == 0


def test_an_expired_cursor_is_410_and_null_starts_over(trio, api):
    client = api(trio.alice)
    kept = make_customer(organization=trio.acme)
    cursor = pull(client, {CUSTOMER: None}).json()["metadata"][CUSTOMER]["cursor"]
    make_customer(organization=trio.acme).delete()
    stamp_pending(trio.acme.pk)
    compact_tombstones(older_than=timezone.now() + timedelta(seconds=1))

    expired = pull(client, {CUSTOMER: cursor})
    fresh = pull(client, {CUSTOMER: None})

    assert expired.status_code == 410
    assert expired.json()["error"] == "cursor_expired"
    assert list(expired.json()["errors"]) == ["models.shop.Customer"]
    assert [r["id"] for r in fresh.json()["data"]] == [str(kept.pk)]


def test_pull_needs_a_token(trio, api):
    response = pull(api(), {CUSTOMER: None})

    assert response.status_code == 401
    assert response.json()["error"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert SyncLog.objects.count() == 0


def test_model_labels_are_case_insensitive_and_answered_under_the_real_label(trio, api):
    make_customer(organization=trio.acme)

    body = pull(api(trio.alice), {"SHOP.customer": None}).json()

    assert list(body["metadata"]) == [CUSTOMER]
    assert [r["_model"] for r in body["data"]] == [CUSTOMER]


@pytest.fixture
def foreign_cursors(trio, api):
    """Cursors that are genuine but not alice's to use for shop.Customer in acme."""
    make_customer(organization=trio.globex)
    globex = pull(api(trio.charlie), {CUSTOMER: None}).json()["metadata"][CUSTOMER]["cursor"]
    order = pull(api(trio.alice), {"shop.Order": None}).json()["metadata"]["shop.Order"]["cursor"]
    SyncLog.objects.all().delete()
    UserSyncMetadata.objects.all().delete()
    return {"organization": globex, "model": order}


BAD_INPUT = [
    ("models a list", {"models": [CUSTOMER]}, 400, "validation_error", "models"),
    ("models a string", {"models": CUSTOMER}, 400, "validation_error", "models"),
    ("models null", {"models": None}, 400, "validation_error", "models"),
    ("models empty", {"models": {}}, 400, "validation_error", "models"),
    ("models missing", {"batch_size": 5}, 400, "validation_error", "models"),
    ("unknown model", {"models": {"shop.Nope": None}}, 400, "unknown_model", "models.shop.Nope"),
    ("not a label", {"models": {"Customer": None}}, 400, "unknown_model", "models.Customer"),
    ("excluded app model", {"models": {"auth.User": None}}, 403, "forbidden", "models.auth.User"),
    (
        "sb-sync's label",
        {"models": {"sb_sync.SyncLog": None}},
        400,
        "unknown_model",
        "models.sb_sync.SyncLog",
    ),
    ("batch_size 0", {"models": {CUSTOMER: None}, "batch_size": 0}, 400, "validation_error", "batch_size"),
    ("batch_size -1", {"models": {CUSTOMER: None}, "batch_size": -1}, 400, "validation_error", "batch_size"),
    (
        "batch_size 10**9",
        {"models": {CUSTOMER: None}, "batch_size": 10**9},
        400,
        "validation_error",
        "batch_size",
    ),
    ("batch_size x", {"models": {CUSTOMER: None}, "batch_size": "x"}, 400, "validation_error", "batch_size"),
    (
        "batch_size true",
        {"models": {CUSTOMER: None}, "batch_size": True},
        400,
        "validation_error",
        "batch_size",
    ),
    (
        "batch_size 1.5",
        {"models": {CUSTOMER: None}, "batch_size": 1.5},
        400,
        "validation_error",
        "batch_size",
    ),
    (
        "garbage cursor",
        {"models": {CUSTOMER: "c:not-a-cursor"}},
        400,
        "invalid_cursor",
        "models.shop.Customer",
    ),
    (
        "invalid timestamp",
        {"models": {CUSTOMER: "2024-02-30T10:00:00Z"}},
        400,
        "invalid_timestamp",
        "models.shop.Customer",
    ),
    (
        "not a timestamp",
        {"models": {CUSTOMER: "last tuesday"}},
        400,
        "invalid_timestamp",
        "models.shop.Customer",
    ),
    ("start a number", {"models": {CUSTOMER: 12}}, 400, "validation_error", "models.shop.Customer"),
    ("start an object", {"models": {CUSTOMER: {"seq": 1}}}, 400, "validation_error", "models.shop.Customer"),
    (
        "same model twice",
        {"models": {CUSTOMER: None, "shop.customer": None}},
        400,
        "validation_error",
        "models.shop.Customer",
    ),
    ("unknown field", {"models": {CUSTOMER: None}, "batchsize": 5}, 400, "validation_error", "batchsize"),
    ("body a list", [{"models": {CUSTOMER: None}}], 400, "validation_error", None),
]


@pytest.mark.parametrize(
    ("case", "body", "status", "code", "field"), BAD_INPUT, ids=[c[0] for c in BAD_INPUT]
)
def test_bad_input_is_a_precise_error_and_serves_nothing(trio, api, case, body, status, code, field):
    make_customer(organization=trio.acme)

    response = api(trio.alice, "acme").post("pull/", body)

    answer = response.json()
    assert (response.status_code, answer["error"]) == (status, code)
    assert answer["detail"]
    if field:
        assert list(answer["errors"]) == [field]
    assert "data" not in answer
    assert UserSyncMetadata.objects.count() == 0


@pytest.mark.parametrize("whose", ["organization", "model"])
def test_a_cursor_issued_for_another_organization_or_model_is_rejected(trio, api, foreign_cursors, whose):
    make_customer(organization=trio.acme)

    response = pull(api(trio.alice), {CUSTOMER: foreign_cursors[whose]})

    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_cursor",
        "detail": "The cursor of shop.Customer was not issued for this organization and model.",
        "errors": {
            "models.shop.Customer": [
                "The cursor of shop.Customer was not issued for this organization and model."
            ]
        },
    }
    assert UserSyncMetadata.objects.count() == 0


def test_a_body_that_is_not_json_is_a_400(trio, api):
    response = api(trio.alice).client.post(
        "/api/sync/pull/", "{models", content_type="application/json", headers=api(trio.alice).headers()
    )

    assert (response.status_code, response.json()["error"]) == (400, "malformed_json")


# Per pull request, in a test (the snapshot is a savepoint here): the token; the membership with the
# configuration generation; the page (savepoint, clocks and index state, the change range joined to the
# rows, release); the activity: on PostgreSQL one statement (the SyncLog, the metrics row, the two
# sync-metadata upserts, the previous sync times), on SQLite a savepoint, those five and its release.
# sbsync/docs/pull.md gives the budget in a server.
PULL_REQUEST_STATEMENTS = 7 if connection.vendor == "postgresql" else 13


@pytest.mark.parametrize("rows", [25, 2000])
def test_a_pull_request_runs_a_fixed_number_of_statements_whatever_the_table_size(
    trio, api, rows, django_assert_max_num_queries
):
    Customer.objects.bulk_create([Customer(organization=trio.acme, name=f"c{n}") for n in range(rows)])
    client = api(trio.alice)
    first = pull(client, {"shop.Customer": None}, batch_size=10).json()

    with django_assert_max_num_queries(PULL_REQUEST_STATEMENTS):
        response = pull(
            client, {"shop.Customer": first["metadata"]["shop.Customer"]["cursor"]}, batch_size=10
        )

    page = response.json()
    assert len(page["data"]) == 10 and page["batch_info"]["has_more"]
    assert {r["id"] for r in page["data"]}.isdisjoint({r["id"] for r in first["data"]})
    assert SyncLog.objects.filter(user=trio.alice, operation=Operation.PULL).count() == 2
    assert PerformanceMetrics.objects.filter(operation_type=Operation.PULL).count() == 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="settings of PostgreSQL transactions")
@pytest.mark.django_db(transaction=True)
def test_a_pull_leaves_no_transaction_setting_behind_on_its_connection(trio, api):
    # A pull reads in a REPEATABLE READ snapshot with sequential scans off, and commits its activity
    # asynchronously: each for its own transaction only, never for what the connection runs next.
    make_customer(organization=trio.acme, name="Ann")

    body = pull(api(trio.alice), {CUSTOMER: None}, batch_size=10).json()

    assert [row["name"] for row in body["data"]] == ["Ann"]
    assert SyncLog.objects.filter(user=trio.alice, operation=Operation.PULL).count() == 1
    with connection.cursor() as cursor:
        settings = {}
        for name in ("synchronous_commit", "enable_seqscan", "transaction_isolation"):
            cursor.execute(f"SHOW {name}")
            settings[name] = cursor.fetchone()[0]
    assert settings == {
        "synchronous_commit": "on",
        "enable_seqscan": "on",
        "transaction_isolation": "read committed",
    }
