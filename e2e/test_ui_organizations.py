"""Organizations and tokens: create an organization, add a member, issue a token that works on the API."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from e2e.ui import CONFIG, settled, sign_in
from sbsync.demo.shop.models import Customer
from sbsync.models import Membership, Organization, ServiceToken
from tests.factories import make_group


@pytest.fixture
def groups(transactional_db):
    return make_group("Warehouse"), make_group("Office")


def create_organization_with_member(page: Page, live_server) -> None:
    sign_in(page, live_server, next_path=f"{CONFIG}organizations/")
    form = page.locator("#organization-create")
    form.get_by_label("Name", exact=True).fill("Initech")
    form.get_by_label("Slug").fill("initech")
    page.get_by_role("button", name="Create organization").click()
    expect(page).to_have_url(f"{live_server.url}{CONFIG}organizations/initech/")
    page.get_by_label("Username").fill("scanner-7")
    page.locator(".add-member").get_by_label("Group").select_option(label="Warehouse")
    page.get_by_label("Create the user if it does not exist").check()
    page.get_by_role("button", name="Add member").click()
    expect(page.locator("#messages")).to_contain_text("scanner-7 added to Initech as Warehouse.")


def issue_token(page: Page) -> str:
    page.get_by_role("navigation", name="Sections").get_by_role("link", name="API tokens").click()
    expect(page).to_have_url(re.compile(rf"{re.escape(CONFIG)}tokens/$"))
    # htmx must have bound the form: a click before its deferred script runs posts the whole page, and
    # the reload below would post it again (issuing a second token).
    page.wait_for_load_state()
    form = page.locator("#token-issue form")
    form.get_by_label("User").fill("scanner-7")
    form.get_by_label("Name").fill("dock scanner")
    page.get_by_role("button", name="Issue token").click()
    settled(page)
    token = page.locator("[data-token]").inner_text()
    expect(page.locator("#tokens-table")).to_contain_text("dock scanner")
    return token


def test_creating_an_organization_adding_a_member_and_changing_its_group(
    watched_page: Page, live_server, screenshot, groups, viewport
):
    page = watched_page

    create_organization_with_member(page, live_server)
    member = Membership.objects.get(user__username="scanner-7")
    page.get_by_label("Group of scanner-7").select_option(label="Office")
    page.locator(f"#member-{member.pk}").get_by_role("button", name="Save").click()
    settled(page)

    expect(page.locator(f"#member-{member.pk}")).to_contain_text("Saved")
    member.refresh_from_db()
    assert (member.organization, member.group.name, member.is_active) == (
        Organization.objects.get(slug="initech"),
        "Office",
        True,
    )
    expect(page.locator("#messages")).not_to_contain_text("scanner-7 added")  # no stale message
    screenshot(page, f"organization-member-saved-{viewport['width']}")

    page.get_by_label("Active membership of scanner-7").uncheck()
    page.locator(f"#member-{member.pk}").get_by_role("button", name="Save").click()
    settled(page)

    expect(page.locator(f"#member-{member.pk} .badge-inactive")).to_have_text("inactive")
    member.refresh_from_db()
    assert member.is_active is False


def test_issued_token_is_shown_once_and_can_be_revoked(
    watched_page: Page, live_server, screenshot, groups, viewport
):
    page = watched_page
    create_organization_with_member(page, live_server)

    token = issue_token(page)

    record = ServiceToken.objects.get()
    assert (record.name, record.user.username, record.issued_by.username) == (
        "dock scanner",
        "scanner-7",
        "staffer",
    )
    assert re.fullmatch(r"[0-9a-f]{64}", token)
    screenshot(page, f"tokens-issued-{viewport['width']}")
    page.reload()
    expect(page.locator("[data-token]")).to_have_count(0)
    assert token not in page.content()

    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke dock scanner").click()

    expect(page.locator("#messages")).to_contain_text("Token “dock scanner” of scanner-7 revoked")
    expect(page.locator("#tokens-table tbody")).to_contain_text("revoked")


def test_token_issued_for_a_new_member_works_on_the_api(watched_page: Page, live_server, groups, viewport):
    page = watched_page
    create_organization_with_member(page, live_server)
    page.goto(f"{live_server.url}{CONFIG}permissions/?organization=initech")
    page.get_by_role("button", name="Grant every permission on shop.Customer to every group shown").click()
    page.locator("#matrix-confirm-apply").click()
    settled(page)
    token = issue_token(page)
    headers = {
        "Authorization": f"Bearer {token}",
        "X-Sync-Organization": "initech",
        "Content-Type": "application/json",
    }
    record = {"_model": "shop.Customer", "id": "11111111-2222-3333-4444-555555555555", "name": "Via token"}

    pushed = page.request.post(f"{live_server.url}/api/sync/push/", headers=headers, data={"data": [record]})

    assert pushed.status == 200
    assert pushed.json()["results"][0]["status"] == "created"
    assert Customer.objects.get(pk=record["id"]).organization == Organization.objects.get(slug="initech")

    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke dock scanner").click()
    expect(page.locator("#messages")).to_contain_text("revoked")
    refused = page.request.post(f"{live_server.url}/api/sync/push/", headers=headers, data={"data": [record]})

    assert refused.status == 401
