"""With JavaScript off, the plain forms and links still work: the matrix saves with its Save button,
list filters submit, the discovery preview renders, and the data-filter form lists a model's fields."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from e2e.ui import CONFIG, PASSWORD
from sbsync.enums import LogStatus
from sbsync.models import DataFilter, DiscoveryConfig, ModelPermission
from tests.factories import grant, make_group, make_organization, make_sync_log, make_user, sbsync_permissions


@pytest.fixture
def plain_page(browser: Browser, live_server, transactional_db) -> Iterator[Page]:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    outside: list[str] = []
    page.on(
        "request",
        lambda request: outside.append(request.url) if not request.url.startswith(live_server.url) else None,
    )
    grant(make_user(username="staffer", password=PASSWORD, is_staff=True), *sbsync_permissions())
    page.goto(f"{live_server.url}{CONFIG}login/")
    page.get_by_label("Username").fill("staffer")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    yield page
    context.close()
    assert outside == []


def test_matrix_saves_with_the_save_button(plain_page: Page, live_server):
    acme = make_organization(name="Acme", slug="acme")
    sales = make_group("Sales")
    page = plain_page
    page.goto(f"{live_server.url}{CONFIG}permissions/?organization=acme")

    page.get_by_role("checkbox", name="Sales: pull shop.Order").check()
    page.get_by_role("checkbox", name="Sales: read shop.Order").check()
    page.get_by_role("button", name="Save changes").click()

    expect(page.locator("#messages")).to_have_text(re.compile("Saved: 2 permissions changed in Acme."))
    row = ModelPermission.objects.get(organization=acme, group=sales, model_label="shop.Order")
    assert (row.can_pull, row.can_read, row.can_push) == (True, True, False)
    expect(page.get_by_role("checkbox", name="Sales: pull shop.Order")).to_be_checked()

    page.get_by_role("button", name="Revoke every permission on shop.Order from every group shown").click()
    expect(page.locator("#matrix-confirm")).to_contain_text("Revoke 2 permissions in Acme?")
    row.refresh_from_db()
    assert (row.can_pull, row.can_read) == (True, True)
    page.get_by_role("button", name="Revoke 2").click()

    expect(page.locator("#matrix-status")).to_contain_text("Revoked 2 permissions in Acme (Sales 2).")
    row.refresh_from_db()
    assert (row.can_pull, row.can_read) == (False, False)
    page.get_by_role("button", name="Undo").click()

    expect(page.locator("#matrix-status")).to_contain_text("Undone: 2 permissions set back in Acme.")
    row.refresh_from_db()
    assert (row.can_pull, row.can_read) == (True, True)


def test_list_filters_submit_as_plain_forms(plain_page: Page, live_server):
    make_sync_log(status=LogStatus.ERROR)
    make_sync_log()
    page = plain_page
    page.goto(f"{live_server.url}{CONFIG}logs/")

    page.get_by_label("Status").select_option("ERROR")
    page.get_by_role("button", name="Filter").click()

    expect(page).to_have_url(re.compile(r"status=ERROR"))
    expect(page.locator("#sync-logs-table .table-meta")).to_contain_text("1 log")


def test_discovery_preview_and_save(plain_page: Page, live_server):
    page = plain_page
    page.goto(f"{live_server.url}{CONFIG}model-discovery/")

    page.get_by_role("group", name="Exclude models").get_by_label("shop.Report").check()
    page.get_by_role("button", name="Preview").click()

    expect(page.locator("#discovery-preview .preview-counts")).to_have_text("3 of 4 models enabled")
    assert not DiscoveryConfig.objects.exists()
    page.get_by_role("button", name="Save settings").click()
    expect(page.locator("#messages")).to_contain_text("Discovery settings saved.")
    assert DiscoveryConfig.objects.get().exclude_models == ["shop.Report"]


def test_data_filter_form_lists_the_fields_of_the_chosen_model(plain_page: Page, live_server):
    make_organization(name="Acme", slug="acme")
    make_group("Sales")
    page = plain_page
    page.goto(f"{live_server.url}{CONFIG}filters/add/")

    page.get_by_label("Model").select_option("shop.Order")
    page.get_by_role("button", name="List this model's fields").click()
    page.get_by_label("Group").select_option(label="Sales")
    page.get_by_label("Name").fill("Paid orders")
    page.get_by_label("Field").select_option("status")
    page.get_by_label("Value").fill("PAID")
    page.get_by_role("button", name="Save").click()

    expect(page.locator("#messages")).to_contain_text("Data filter “Paid orders” saved.")
    assert DataFilter.objects.get().condition == {"field": "status", "operator": "exact", "value": "PAID"}
