"""Sync logs: filtering swaps the table and pushes the URL, the CSV holds exactly the filtered rows (times
in milliseconds), the 30-second refresh keeps filters and page, and requests refused as a whole are
found by their model, their errors read record → field → message beside the value sent; pushes refused
before they run (unknown model, bad envelope) are found among the errors, each with one problem."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from e2e.ui import CONFIG, settled, sign_in
from sbsync.enums import LogStatus, Operation
from sbsync.models import SyncLog
from sbsync.service_tokens import issue_service_token
from tests.factories import (
    make_group,
    make_membership,
    make_organization,
    make_permission,
    make_sync_log,
    make_user,
)


@pytest.fixture
def logs(transactional_db):
    acme = make_organization(name="Acme", slug="acme")
    globex = make_organization(name="Globex", slug="globex")
    alice = make_user(username="alice")
    now = timezone.now()
    for n in range(60):
        make_sync_log(user=alice, organization=acme, timestamp=now - timedelta(minutes=n), object_count=n)
    make_sync_log(
        user=alice,
        organization=acme,
        status=LogStatus.ERROR,
        error_count=2,
        timestamp=now - timedelta(hours=2),
        errors=[
            {
                "index": 0,
                "_model": "shop.Customer",
                "id": "7",
                "errors": {"name": ["This field is required."]},
            }
        ],
    )
    make_sync_log(
        user=alice,
        organization=globex,
        status=LogStatus.ERROR,
        operation=Operation.PULL,
        timestamp=now - timedelta(hours=3),
    )
    return acme, globex, alice


def test_filtering_the_logs_and_downloading_exactly_those_rows(
    watched_page: Page, live_server, screenshot, logs, viewport
):
    page = watched_page
    sign_in(page, live_server, next_path=f"{CONFIG}logs/")
    expect(page.locator("#sync-logs-table .table-meta")).to_contain_text("62 logs")

    page.get_by_label("Status").select_option("ERROR")
    settled(page)
    page.get_by_label("Organization").select_option("acme")
    settled(page)

    expect(page.locator("#sync-logs-table .table-meta")).to_contain_text("1 log")
    expect(page).to_have_url(
        f"{live_server.url}{CONFIG}logs/?user=&organization=acme&operation=&status=ERROR&model=&timestamp_after=&timestamp_before="
    )
    screenshot(page, f"sync-logs-filtered-{viewport['width']}")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download CSV").click()
    rows = list(csv.reader(io.StringIO(download_info.value.path().read_text())))

    expected = SyncLog.objects.get(status=LogStatus.ERROR, organization__slug="acme")
    assert [row[0] for row in rows[1:]] == [timezone.localtime(expected.timestamp).isoformat()]
    assert rows[1][1:5] == ["PUSH", "ERROR", "alice", "Acme"]
    assert rows[0][-1] == "Time (ms)" and float(rows[1][-1]) == expected.processing_time * 1000

    page.locator("#sync-logs-table tbody a").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Push at")
    expect(page.locator("main")).to_contain_text("This field is required.")
    expect(page.locator("main")).to_contain_text(f"{expected.processing_time * 1000:.0f} ms")
    screenshot(page, f"sync-log-errors-{viewport['width']}")
    page.go_back()
    expect(page.get_by_label("Status")).to_have_value("ERROR")
    expect(page.locator("#sync-logs-table .table-meta")).to_contain_text("1 log")


def test_the_table_refreshes_every_30_seconds_keeping_filters_page_and_scroll(
    watched_page: Page, live_server, logs, viewport
):
    acme, _, alice = logs
    page = watched_page
    page.clock.install()
    sign_in(page, live_server, next_path=f"{CONFIG}logs/?organization=acme&sort=-timestamp&page=2")
    page.mouse.wheel(0, 600)
    page.wait_for_function("() => window.scrollY > 0")
    scrolled = page.evaluate("() => window.scrollY")
    before = page.locator("#sync-logs-table tbody tr").first.inner_text()
    make_sync_log(user=alice, organization=acme, timestamp=timezone.now() + timedelta(seconds=1))

    page.clock.run_for(31_000)
    settled(page)

    expect(page.locator("#sync-logs-table tbody tr").first).not_to_have_text(before)
    expect(page.locator("#sync-logs-table .table-meta")).to_contain_text("62 logs")
    expect(page.locator('.pagination [aria-current="page"]')).to_have_text("2")
    assert page.url.endswith("logs/?organization=acme&sort=-timestamp&page=2")
    assert page.evaluate("() => window.scrollY") == scrolled


@pytest.fixture
def scanner(transactional_db):
    """A member of Acme whose group may push orders only, with an API token."""
    acme = make_organization(name="Acme", slug="acme")
    sales = make_group("Sales")
    user = make_user(username="scanner")
    make_membership(user=user, organization=acme, group=sales)
    make_permission(organization=acme, group=sales, model_label="shop.Order", actions=["push", "create"])
    _, token = issue_service_token(user=user, name="scanner", issued_by=None, lifetime=timedelta(days=1))
    return token


def test_a_refused_push_is_found_by_its_model_and_reads_record_field_message_and_value(
    watched_page: Page, live_server, screenshot, scanner, viewport
):
    page = watched_page
    headers = {"Authorization": f"Bearer {scanner}", "X-Sync-Organization": "acme"}
    forbidden = page.request.post(
        f"{live_server.url}/api/sync/push/",
        headers=headers,
        data={"data": [{"_model": "shop.Report", "id": 1, "report_type": "AUDIT"}]},
    )
    invalid = page.request.post(
        f"{live_server.url}/api/sync/push/",
        headers=headers,
        data={"data": [{"_model": "shop.Order", "amount": "lots", "status": "PAID"}]},
    )
    assert (forbidden.status, invalid.status) == (403, 400)
    sign_in(page, live_server, next_path=f"{CONFIG}logs/")

    page.get_by_label("Model").select_option("shop.Report")
    settled(page)

    rows = page.locator("#sync-logs-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Error")
    expect(rows.first).to_contain_text("shop.Report")
    rows.first.get_by_role("link").click()
    expect(page.locator(".details-list")).to_contain_text("shop.Report")
    expect(page.locator(".error-table tbody tr")).to_contain_text("You may not push records of this model.")
    page.go_back()

    page.get_by_label("Model").select_option("shop.Order")
    settled(page)
    expect(page.locator("#sync-logs-table tbody tr")).to_have_count(1)
    page.locator("#sync-logs-table tbody a").first.click()

    amount = page.locator(".error-table tbody tr", has_text="amount")
    expect(amount.locator("td")).to_have_text(["0", "shop.Order", "amount", re.compile("number"), "lots"])
    expect(page.locator(".details-list")).to_contain_text(re.compile(r"Processing time\s*[\d.,]+ ms"))
    screenshot(page, f"sync-log-refused-{viewport['width']}")


def test_pushes_refused_before_they_run_are_found_among_the_errors_with_their_reason(
    watched_page: Page, live_server, screenshot, scanner, viewport
):
    page = watched_page
    headers = {"Authorization": f"Bearer {scanner}", "X-Sync-Organization": "acme"}
    unknown = page.request.post(
        f"{live_server.url}/api/sync/push/",
        headers=headers,
        data={"data": [{"_model": "shop.Ordr", "amount": "1"}]},
    )
    bad_envelope = page.request.post(
        f"{live_server.url}/api/sync/push/",
        headers=headers,
        data={"data": [{"_model": "shop.Order", "amount": "1"}], "atomically": True},
    )
    anonymous = page.request.post(f"{live_server.url}/api/sync/push/", data={"data": []})
    assert (unknown.status, bad_envelope.status, anonymous.status) == (400, 400, 401)
    sign_in(page, live_server, next_path=f"{CONFIG}logs/")

    page.get_by_label("Status").select_option("ERROR")
    settled(page)
    page.get_by_label("Operation").select_option("PUSH")
    settled(page)

    # Both refusals, newest first; the unauthenticated request left none.
    rows = page.locator("#sync-logs-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("shop.Order")
    expect(rows.nth(1)).to_contain_text("shop.Ordr")
    rows.nth(1).get_by_role("link").click()
    expect(page.locator(".details-list")).to_contain_text("shop.Ordr")
    problem = page.locator(".error-table tbody tr")
    expect(problem).to_have_count(1)
    expect(problem).to_contain_text(re.compile(r"Unknown model: 'shop.Ordr'.*\(unknown_model\)"))
    screenshot(page, f"sync-log-unknown-model-{viewport['width']}")
    page.go_back()

    # The model filter finds the refused envelope by the model it named.
    page.get_by_label("Model").select_option("shop.Order")
    settled(page)
    expect(rows).to_have_count(1)
    rows.first.get_by_role("link").click()
    expect(page.locator("body")).to_contain_text("Unknown key 'atomically'")
