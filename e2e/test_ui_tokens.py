"""API tokens as staff manage them, at desktop and phone size: issue two, revoke one, the status filter
reads All / Active / Revoked, the CSV holds plain text, and the audit trail shows who issued and who
revoked each token, never the token itself."""

from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import Page, expect

from e2e.ui import CONFIG, settled, sign_in
from sbsync.models import ServiceToken
from tests.factories import make_user


@pytest.fixture
def devices(transactional_db):
    make_user(username="scanner-7")
    make_user(username="till-2")


def issue(page: Page, user: str, name: str) -> str:
    form = page.locator("#token-issue form")
    form.get_by_label("User").fill(user)
    form.get_by_label("Name").fill(name)
    page.get_by_role("button", name="Issue token").click()
    settled(page)
    expect(page.locator("#tokens-table")).to_contain_text(name)
    return page.locator("[data-token]").inner_text()


def test_issue_filter_export_revoke_and_the_audit_trail(
    watched_page: Page, live_server, screenshot, devices, viewport
):
    page = watched_page
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, live_server, next_path=f"{CONFIG}tokens/")
    width = viewport["width"]
    secrets = [issue(page, "scanner-7", "dock scanner"), issue(page, "till-2", "front till")]
    page.get_by_role("button", name="Revoke front till").click()
    expect(page.locator("#messages")).to_contain_text("Token “front till” of till-2 revoked")

    status = page.get_by_label("Status")
    expect(status.locator("option")).to_have_text(["All", "Active", "Revoked"])
    status.select_option(label="Revoked")
    settled(page)
    expect(page.locator("#tokens-table tbody tr")).to_have_count(1)
    expect(page.locator("#tokens-table tbody tr")).to_contain_text("front till")
    status.select_option(label="Active")
    settled(page)
    expect(page.locator("#tokens-table tbody tr")).to_have_count(1)
    expect(page.locator("#tokens-table tbody tr")).to_contain_text("dock scanner")
    status.select_option(label="All")
    settled(page)
    expect(page.locator("#tokens-table tbody tr")).to_have_count(2)
    screenshot(page, f"tokens-all-{width}")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download CSV").click()
    rows = list(csv.reader(io.StringIO(download.value.path().read_text())))
    dock, till = (ServiceToken.objects.get(name=n) for n in ("dock scanner", "front till"))
    assert rows[0] == ["Name", "User", "Starts with", "Issued by", "Issued", "Expires", "Status"]
    assert {row[0]: (row[2], row[3], row[6]) for row in rows[1:]} == {
        "dock scanner": (f"{dock.token_key}…", "staffer", "active"),
        "front till": (f"{till.token_key}…", "staffer", "revoked"),
    }
    assert not any(re.search(r"[<>]|&\w+;", cell) for row in rows for cell in row)

    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Audit trail").click()
    page.get_by_label("Model").select_option(label="API token")
    settled(page)
    changes = page.locator("#audit-table tbody tr")
    expect(changes).to_have_count(3)
    expect(changes.first).to_contain_text(f"“front till” ({till.token_key}…) for till-2")
    expect(changes.first.locator(".badge")).to_have_text("changed")
    expect(changes.first.locator(".diff")).to_contain_text("revoked by: ∅ → staffer")
    expect(changes.first).to_contain_text("staffer")
    for secret in secrets:
        assert secret not in page.content()
    changes.first.get_by_role("link", name=re.compile("^History of")).click()
    settled(page)
    expect(page.locator("#audit-table tbody tr .badge")).to_have_text(["changed", "created"])
    expect(page.locator("#audit-table tbody tr").last).to_contain_text("issued by")
    screenshot(page, f"audit-trail-token-{width}")
