from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from sbsync.enums import LogStatus, Operation
from sbsync.models import SyncLog
from tests.api.conftest import ApiClient, token_for
from tests.factories import make_sync_log
from tests.ui.conftest import HTMX, csv_rows

LIST = reverse("sbsync:sync-logs")


def codes_in(html: str) -> list[str]:
    return re.findall(r"/api/sync/config/logs/([0-9a-f-]{36})/", html)


@pytest.fixture
def logs(trio):
    """Logs that differ in one property each, newest first."""
    return {
        "alice push": make_sync_log(
            user=trio.alice, organization=trio.acme, timestamp=datetime(2026, 3, 5, 12, tzinfo=UTC)
        ),
        "bob pull": make_sync_log(
            user=trio.bob,
            organization=trio.acme,
            operation=Operation.PULL,
            timestamp=datetime(2026, 3, 4, 12, tzinfo=UTC),
        ),
        "charlie error": make_sync_log(
            user=trio.charlie,
            organization=trio.globex,
            status=LogStatus.ERROR,
            error_count=1,
            timestamp=datetime(2026, 3, 3, 12, tzinfo=UTC),
        ),
        "orders": make_sync_log(
            user=trio.alice,
            organization=trio.acme,
            model_name="shop.Order",
            model_names=["shop.Order", "shop.Customer"],
            timestamp=datetime(2026, 3, 2, 12, tzinfo=UTC),
        ),
        "customer notes": make_sync_log(
            user=trio.alice,
            organization=trio.acme,
            model_name="shop.CustomerNote",
            model_names=["shop.CustomerNote"],
            timestamp=datetime(2026, 3, 1, 12, tzinfo=UTC),
        ),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["alice push", "bob pull", "charlie error", "orders", "customer notes"]),
        ({"user": "BOB"}, ["bob pull"]),
        ({"organization": "globex"}, ["charlie error"]),
        ({"operation": "PULL"}, ["bob pull"]),
        ({"status": "ERROR"}, ["charlie error"]),
        ({"model": "shop.Customer"}, ["alice push", "bob pull", "charlie error", "orders"]),
        ({"model": "shop.Order"}, ["orders"]),
        ({"timestamp_after": "2026-03-03", "timestamp_before": "2026-03-04"}, ["bob pull", "charlie error"]),
        ({"organization": "nope"}, []),
    ],
)
def test_list_filters(staff_client, logs, query, expected):
    response = staff_client.get(LIST, query)

    assert codes_in(response.content.decode()) == [str(logs[name].code) for name in expected]


@override_settings(TIME_ZONE="America/New_York")
def test_list_date_range_is_in_the_current_time_zone(staff_client, trio):
    late_evening = make_sync_log(
        timestamp=datetime(2026, 3, 3, 2, 30, tzinfo=UTC)
    )  # March 2, 21:30 in New York
    make_sync_log(timestamp=datetime(2026, 3, 3, 5, 30, tzinfo=UTC))  # March 3, 00:30 in New York

    response = staff_client.get(LIST, {"timestamp_after": "2026-03-02", "timestamp_before": "2026-03-02"})

    assert codes_in(response.content.decode()) == [str(late_evening.code)]


def test_list_sorts_by_a_column(staff_client, logs):
    response = staff_client.get(LIST, {"sort": "timestamp"})

    assert codes_in(response.content.decode())[0] == str(logs["customer notes"].code)


def test_list_paginates_and_keeps_filters_in_page_links(staff_client, trio):
    for _ in range(51):
        make_sync_log(organization=trio.acme)

    response = staff_client.get(LIST, {"organization": "acme", "page": 2})

    html = response.content.decode()
    assert len(codes_in(html)) == 1
    assert "organization=acme&amp;page=1" in html


def test_list_csv_equals_the_filtered_rows_in_table_order(staff_client, logs):
    response = staff_client.get(
        LIST, {"organization": "acme", "sort": "timestamp", "_export": "csv", "page": 1}
    )

    rows = csv_rows(response)
    assert rows[0] == [
        "When",
        "Operation",
        "Status",
        "User",
        "Organization",
        "Models",
        "Records",
        "OK",
        "Errors",
        "Time (ms)",
    ]
    expected = [logs[n] for n in ("customer notes", "orders", "bob pull", "alice push")]
    assert [row[0] for row in rows[1:]] == [log.timestamp.isoformat() for log in expected]
    assert rows[2] == [
        "2026-03-02T12:00:00+00:00",
        "PUSH",
        "SUCCESS",
        "alice",
        "Acme",
        "shop.Order shop.Customer",
        "1",
        "1",
        "0",
        "50.0",
    ]


def test_list_csv_has_every_filtered_row_not_one_page(staff_client, trio):
    for _ in range(60):
        make_sync_log(organization=trio.acme)

    response = staff_client.get(LIST, {"_export": "csv"})

    assert len(csv_rows(response)) == 61


def test_list_htmx_gets_the_table_that_refreshes_itself_with_the_same_query(staff_client, logs):
    response = staff_client.get(LIST, {"operation": "PUSH", "page": "1", "sort": "-timestamp"}, headers=HTMX)

    html = response.content.decode()
    assert html.lstrip().startswith('<section id="sync-logs-table"')
    assert "<html" not in html
    assert 'hx-get="/api/sync/config/logs/?operation=PUSH&amp;page=1&amp;sort=-timestamp"' in html
    assert 'hx-trigger="every 30s"' in html


def test_list_history_restore_gets_the_full_page(staff_client, logs):
    response = staff_client.get(LIST, headers={**HTMX, "HX-History-Restore-Request": "true"})

    assert b"<html" in response.content


@pytest.mark.parametrize("item_count", [1, 3])
def test_list_query_count_does_not_grow_with_rows(staff_client, trio, django_assert_num_queries, item_count):
    for _ in range(item_count):
        make_sync_log(user=trio.alice, organization=trio.acme)

    with django_assert_num_queries(7):
        staff_client.get(LIST)


def test_detail_shows_the_log_and_its_errors(staff_client, trio):
    log = make_sync_log(
        user=trio.bob,
        organization=trio.acme,
        status=LogStatus.ERROR,
        error_count=1,
        error_message="1 record rejected",
        errors=[
            {
                "index": 1,
                "_model": "shop.Customer",
                "id": "7d0e",
                "status": "rejected",
                "errors": {"age": ["Enter a whole number."]},
            }
        ],
        request_data={
            "data": [
                {"_model": "shop.Customer", "id": "a1", "age": 3},
                {"_model": "shop.Customer", "id": "7d0e", "age": "old"},
            ]
        },
    )

    response = staff_client.get(reverse("sbsync:sync-log-detail", args=[log.code]))

    html = response.content.decode()
    cells = re.findall(
        r"<td[^>]*>([^<]*)</td>", html.split('class="error-table stacked"')[1].split("</table>")[0]
    )
    assert cells == ["1", "shop.Customer 7d0e", "age", "Enter a whole number.", "old"]
    assert "{&#x27;" not in html and "{'" not in html
    assert "&quot;age&quot;: &quot;old&quot;" in html


def test_detail_reads_a_request_refused_as_a_whole_as_one_problem_with_its_code(staff_client, trio):
    ApiClient(token_for(trio.alice)).post("push/", {"data": [{"_model": "shop.Nope", "name": "x"}]})
    log = SyncLog.objects.get()

    html = staff_client.get(reverse("sbsync:sync-log-detail", args=[log.code])).content.decode()

    cells = re.findall(
        r"<td[^>]*>([^<]*)</td>", html.split('class="error-table stacked"')[1].split("</table>")[0]
    )
    assert len(cells) == 5 and cells[3].startswith("Unknown model: &#x27;shop.Nope&#x27;.")
    assert cells[3].endswith("(unknown_model)")
    assert "shop.Nope" in html.split("Models")[1].split("</dd>")[0]


def test_list_user_filter_matches_part_of_the_name_in_any_case(staff_client, logs):
    response = staff_client.get(LIST, {"user": "LIC"}, headers=HTMX)

    expected = ["alice push", "orders", "customer notes"]
    assert codes_in(response.content.decode()) == [str(logs[name].code) for name in expected]


def test_list_filter_form_keeps_the_sort(staff_client, logs):
    response = staff_client.get(LIST, {"sort": "user", "operation": "PULL"})

    form = response.content.decode().split('role="search"')[1].split("</form>")[0]
    assert '<input type="hidden" name="sort" value="user">' in form
    assert "data-keep-sort" in response.content.decode()


def test_list_model_filter_finds_a_push_refused_as_a_whole(staff_client, trio, settings):
    settings.SBSYNC = {**settings.SBSYNC, "EXCLUDE_MODELS": ["shop.Report"]}
    api = Client(headers={"Authorization": f"Bearer {token_for(trio.alice)}"})
    for record in ({"_model": "shop.Report", "report_type": "X"}, {"_model": "shop.Customer", "name": "Ann"}):
        api.post("/api/sync/push/", {"data": [record]}, content_type="application/json")

    rows = csv_rows(staff_client.get(LIST, {"model": "shop.Report", "_export": "csv"}))

    refused = SyncLog.objects.get(status=LogStatus.ERROR)
    assert [row[0] for row in rows[1:]] == [timezone.localtime(refused.timestamp).isoformat()]
    assert rows[1][1:3] == ["PUSH", "ERROR"]
