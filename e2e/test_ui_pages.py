"""Every page of the staff UI at phone and desktop width: it renders without console errors (CSP
violations included) or outside requests, nothing overflows the viewport sideways, axe-core finds no
serious or critical violation, and a screenshot is saved for a person."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from playwright.sync_api import Page, expect

from e2e.ui import CONFIG, sign_in
from sbsync.enums import LogStatus, Operation
from sbsync.models import PerformanceAnalysis
from sbsync.service_tokens import issue_service_token
from tests.factories import (
    make_filter,
    make_group,
    make_membership,
    make_metrics,
    make_organization,
    make_permission,
    make_sync_log,
    make_user,
)

PAGES = [
    ("dashboard", ""),
    ("permissions", "permissions/?organization=acme"),
    ("data-filters", "filters/"),
    ("data-filter-add", "filters/add/"),
    ("model-discovery", "model-discovery/"),
    ("sync-logs", "logs/"),
    ("sync-log-detail", None),
    ("metrics", "metrics/"),
    ("audit-trail", "audit-trails/"),
    ("organizations", "organizations/"),
    ("organization-detail", "organizations/acme/"),
    ("tokens", "tokens/"),
]


@pytest.fixture
def demo(transactional_db):
    acme = make_organization(name="Acme Corporation", slug="acme")
    globex = make_organization(name="Global Retail", slug="globex")
    managers, sales = make_group("Managers"), make_group("Sales")
    make_group("Analysts")
    john, mary = make_user(username="john_manager"), make_user(username="mary_sales")
    make_membership(user=john, organization=acme, group=managers)
    make_membership(user=mary, organization=globex, group=sales)
    make_permission(
        organization=acme,
        group=managers,
        model_label="shop.Customer",
        actions=["push", "pull", "create", "read"],
    )
    make_filter(organization=globex, group=sales, name="Own customers")
    now = timezone.now()
    for n in range(30):
        when = now - timedelta(hours=5 * n)
        make_sync_log(
            user=john if n % 2 else mary,
            organization=acme if n % 2 else globex,
            operation=Operation.PUSH if n % 3 else Operation.PULL,
            status=LogStatus.ERROR if n % 7 == 0 else LogStatus.SUCCESS,
            error_count=1 if n % 7 == 0 else 0,
            object_count=10 * n,
            timestamp=when,
            processing_time=0.05 + n / 100,
            errors=[{"index": 0, "_model": "shop.Customer", "id": "1", "errors": {"name": ["Required."]}}]
            if n % 7 == 0
            else [],
        )
        make_metrics(
            operation_type="push" if n % 3 else "pull",
            batch_size=10 * n + 5,
            processing_time=0.05 + n / 100,
            query_count=5 + n % 9,
            memory_usage=80 + n % 13,
            timestamp=when,
        )
    PerformanceAnalysis.objects.create(
        suggestions=["Pull p95 is 0.34 s: consider a smaller DEFAULT_PULL_BATCH."]
    )
    issue_service_token(user=john, name="warehouse scanner", issued_by=None, lifetime=timedelta(days=90))
    return acme


def overflow_of(page: Page) -> int:
    return page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")


@pytest.mark.parametrize("width", [1440, 375])
def test_every_page_renders_cleanly_at_this_width(
    watched_page: Page, live_server, screenshot, axe, demo, width
):
    page = watched_page
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live_server.url}{CONFIG}login/")
    assert axe(page) == []
    screenshot(page, f"login-{width}")
    sign_in(page, live_server)
    detail = page.locator("#dashboard-live .activity a").first.get_attribute("href")

    for name, path in PAGES:
        response = page.goto(f"{live_server.url}{detail if path is None else CONFIG + path}")
        expect(page.locator("h1")).to_be_visible()
        assert "script-src 'self'" in response.headers["content-security-policy"]
        assert overflow_of(page) <= 0, f"{name} is {overflow_of(page)}px wider than the {width}px viewport"
        assert axe(page) == [], name
        screenshot(page, f"{name}-{width}")


@pytest.mark.parametrize("width", [1440, 375])
def test_the_403_page_is_the_uis_own_and_accessible(
    page: Page, live_server, screenshot, axe, transactional_db, width
):
    member = make_user(username="member")
    client = Client()
    client.force_login(member)
    page.context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page.set_viewport_size({"width": width, "height": 900})

    response = page.goto(f"{live_server.url}{CONFIG}permissions/")

    assert response.status == 403
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    expect(page.locator("main")).to_contain_text("this page needs a staff account")
    expect(page.get_by_role("button", name="Log out")).to_be_visible()
    expect(page.get_by_role("link", name="Go back")).to_be_visible()
    assert axe(page) == []
    screenshot(page, f"403-{width}")
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(f"{live_server.url}{CONFIG}login/")


def test_keyboard_users_can_skip_to_the_content_and_reach_the_navigation(
    watched_page: Page, live_server, demo, viewport
):
    page = watched_page
    sign_in(page, live_server)

    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(
        page.get_by_role("navigation", name="Sections").get_by_role("link", name="Dashboard")
    ).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("link", name="Dashboard", exact=True)).to_have_attribute("aria-current", "page")
