"""Permission matrix journeys: a box saves on change and the API follows it; whole columns; the audit
trail shows the change."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import Page, expect

from e2e.ui import CONFIG, settled, sign_in
from sbsync.demo.shop.models import Customer
from sbsync.models import ModelPermission
from sbsync.service_tokens import issue_service_token
from tests.factories import make_group, make_membership, make_organization, make_user


@pytest.fixture
def acme(transactional_db):
    """Acme with a Sales group whose member is a service user holding a token."""
    organization = make_organization(name="Acme", slug="acme")
    sales = make_group("Sales")
    make_group("Analysts")
    scanner = make_user(username="scanner")
    make_membership(user=scanner, organization=organization, group=sales)
    _, token = issue_service_token(user=scanner, name="scanner", issued_by=None, lifetime=timedelta(days=90))
    return organization, sales, token


def box(page: Page, group: Group, model: str, action: str):
    return page.get_by_role("checkbox", name=f"{group.name}: {action} {model}")


def push_customer(page: Page, live_server, token: str, name: str):
    return page.request.post(
        f"{live_server.url}/api/sync/push/",
        headers={
            "Authorization": f"Bearer {token}",
            "X-Sync-Organization": "acme",
            "Content-Type": "application/json",
        },
        data={"data": [{"_model": "shop.Customer", "id": str(uuid.uuid4()), "name": name}]},
    )


def test_ticking_push_lets_the_group_push_and_unticking_stops_it(
    watched_page: Page, live_server, screenshot, acme, viewport
):
    organization, sales, token = acme
    page = watched_page
    sign_in(page, live_server, next_path=f"{CONFIG}permissions/?organization=acme")
    assert push_customer(page, live_server, token, "Before").status == 403

    box(page, sales, "shop.Customer", "push").check()
    settled(page)
    box(page, sales, "shop.Customer", "create").check()
    settled(page)
    allowed = push_customer(page, live_server, token, "Allowed")

    assert allowed.status == 200
    assert allowed.json()["results"][0]["status"] == "created"
    assert Customer.objects.filter(name="Allowed", organization=organization).exists()

    box(page, sales, "shop.Customer", "push").uncheck()
    settled(page)
    refused = push_customer(page, live_server, token, "Refused")

    assert refused.status == 403
    assert not Customer.objects.filter(name="Refused").exists()
    screenshot(page, f"permissions-after-untick-{viewport['width']}")


def test_a_box_saves_on_change_and_keeps_keyboard_focus(
    watched_page: Page, live_server, screenshot, acme, viewport
):
    organization, sales, _ = acme
    page = watched_page
    sign_in(page, live_server, next_path=f"{CONFIG}permissions/?organization=acme")
    push = box(page, sales, "shop.Order", "push")

    push.focus()
    with page.expect_request(re.compile(r".*/permissions/cell/$")) as sent:
        page.keyboard.press("Space")
    settled(page)

    key = f"{sales.pk}:shop.Order:push"
    assert parse_qs(sent.value.post_data) == {"organization": ["acme"], "cell": [key], key: ["on"]}
    expect(push).to_be_checked()
    expect(push).to_be_focused()
    expect(page.locator("#matrix-status")).to_have_text("Saved: Sales: push shop.Order granted.")
    assert (
        ModelPermission.objects.get(organization=organization, group=sales, model_label="shop.Order").can_push
        is True
    )
    screenshot(page, f"permissions-saved-{viewport['width']}")


def test_selecting_a_whole_column_grants_it_on_every_model(
    watched_page: Page, live_server, screenshot, acme, viewport
):
    organization, sales, _ = acme
    page = watched_page
    sign_in(page, live_server, next_path=f"{CONFIG}permissions/?organization=acme")

    page.get_by_role("button", name="Grant pull on every model to Sales").click()
    expect(page.locator("#matrix-confirm")).to_contain_text("Grant 4 permissions in Acme?")
    expect(page.get_by_role("button", name="Grant 4")).to_be_focused()
    page.keyboard.press("Enter")
    settled(page)

    for model in ("shop.Customer", "shop.Order", "shop.Product", "shop.Report"):
        expect(box(page, sales, model, "pull")).to_be_checked()
    for model in ("shop.Customer", "shop.Order", "shop.Report"):
        expect(box(page, sales, model, "push")).not_to_be_checked()
    expect(page.locator("#matrix-status")).to_contain_text("Granted 4 permissions in Acme (Sales 4).")
    pulls = ModelPermission.objects.filter(organization=organization, group=sales).values_list(
        "model_label", "can_pull", "can_push"
    )
    assert sorted(pulls) == [
        ("shop.Customer", True, False),
        ("shop.Order", True, False),
        ("shop.Product", True, False),
        ("shop.Report", True, False),
    ]
    screenshot(page, f"permissions-column-{viewport['width']}")

    page.get_by_role("button", name="Revoke pull on every model from Sales").click()
    page.get_by_role("button", name="Revoke 4").click()
    settled(page)

    expect(box(page, sales, "shop.Report", "pull")).not_to_be_checked()
    assert not ModelPermission.objects.filter(organization=organization, group=sales, can_pull=True).exists()


def test_a_permission_change_appears_in_the_audit_trail_with_its_diff(
    watched_page: Page, live_server, screenshot, acme, viewport
):
    organization, sales, _ = acme
    ModelPermission.objects.create(
        organization=organization, group=sales, model_label="shop.Order", can_pull=True
    )
    page = watched_page
    sign_in(page, live_server, next_path=f"{CONFIG}permissions/?organization=acme")

    box(page, sales, "shop.Order", "delete").check()
    settled(page)
    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Audit trail").click()
    page.get_by_label("Model").select_option("modelpermission")
    settled(page)

    first = page.locator("#audit-table tbody tr").first
    expect(first).to_contain_text("staffer")
    expect(first).to_contain_text("Sales: shop.Order in Acme")
    expect(first.locator(".diff li")).to_have_text("can delete: no → yes")
    expect(page).to_have_url(
        f"{live_server.url}{CONFIG}audit-trails/?model=modelpermission&user=&action=&history_date_after=&history_date_before=&object="
    )
    screenshot(page, f"audit-after-permission-change-{viewport['width']}")


def test_a_box_that_cannot_be_saved_goes_back_and_says_failed(page: Page, live_server, acme, viewport):
    """Not a watched page: the refused request is meant to log its error."""
    organization, sales, _ = acme
    sign_in(page, live_server, next_path=f"{CONFIG}permissions/?organization=acme")
    page.route(
        re.compile(r".*/permissions/cell/$"), lambda route: route.fulfill(status=500, body="Server Error")
    )
    push = box(page, sales, "shop.Report", "push")

    push.click()

    cell = page.locator(f"#cell-{sales.pk}-shop-report-push")
    expect(cell.locator("[data-cell-status]")).to_have_text("Failed")
    expect(push).not_to_be_checked()
    expect(page.locator("#matrix-status")).to_have_text(
        "Not saved: the server did not accept the change. Try again."
    )
    assert not ModelPermission.objects.filter(organization=organization, group=sales).exists()
