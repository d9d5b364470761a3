"""The audit trail as staff read it, at desktop and phone size: a page of 50 changes stays a few screens
long with long diffs folded under their count, fields read by their verbose names, a deleted record
shows its last values, and each row's history link opens that one object's trail."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from e2e.ui import CONFIG, settled, sign_in
from sbsync.models import DataFilter, Organization
from tests.factories import make_filter, make_group, make_organization

# A page of 50 rows, in screens of the viewport's height: about 3 on a desktop (a row's changes run on as
# one line); on a phone each row is a block of paired cells (when | who, model | action, then object and
# changes), about 13.
SCREENS = {1440: 3.5, 375: 14}


@pytest.fixture
def history(transactional_db):
    """60 organizations created (three values each), then one data filter (more than three values)."""
    for n in range(60):
        Organization.objects.create(name=f"Branch {n:02d}", slug=f"branch-{n:02d}")
    acme = make_organization(name="Acme", slug="acme")
    return make_filter(organization=acme, group=make_group("Sales"), name="Own customers")


def test_a_page_of_changes_is_compact_and_each_object_has_its_history(
    watched_page: Page, live_server, screenshot, history, viewport
):
    page = watched_page
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, live_server, next_path=f"{CONFIG}audit-trails/")
    width = viewport["width"]

    rows = page.locator("#audit-table tbody tr")
    expect(rows).to_have_count(50)
    height = page.locator("#audit-table table").bounding_box()["height"]
    assert height <= SCREENS[width] * viewport["height"], (
        f"50 rows take {height / viewport['height']:.1f} screens"
    )
    created = rows.filter(has_text="Own customers").first
    folded = created.locator("details.diff-details")
    expect(folded.locator("summary")).to_have_text(re.compile(r"^\d+ values$"))
    expect(folded.locator(".diff")).not_to_be_visible()
    folded.locator("summary").click()
    expect(folded.locator(".diff")).to_contain_text("model label: shop.Customer")
    expect(folded.locator(".diff")).to_contain_text("is active: yes")
    screenshot(page, f"audit-trail-page-{width}")

    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Data filters").click()
    page.get_by_role("button", name="Delete Own customers").click()
    expect(page.locator("#messages")).to_contain_text("Data filter “Own customers” deleted.")
    assert not DataFilter.objects.exists()
    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Audit trail").click()

    deleted = page.locator("#audit-table tbody tr").first
    expect(deleted.locator(".badge")).to_have_text("deleted")
    deleted.locator("details.diff-details summary").click()
    expect(deleted.locator(".diff")).to_contain_text("name: Own customers")
    deleted.get_by_role("link", name=re.compile("^History of")).click()
    settled(page)

    expect(page).to_have_url(re.compile(rf"model=datafilter&object={history.pk}"))
    expect(page.locator("#audit-table tbody tr .badge")).to_have_text(["deleted", "created"])
    expect(page.get_by_label("Model")).to_have_value("datafilter")
    screenshot(page, f"audit-trail-object-{width}")
