"""The Django admin beside the staff UI: a staff user logs in to the admin and sees sbsync's models, and
where the two cover the same object each links to the other ("In the Django admin", "View on site")."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from e2e.ui import CONFIG
from sbsync.models import PerformanceMetrics
from tests.factories import make_metrics, make_organization, make_sync_log, make_user


def log_in_to_admin(page: Page, live_server) -> None:
    make_user(username="staffer", password="secret-pass-1", is_staff=True, is_superuser=True)
    page.goto(f"{live_server.url}/admin/")
    page.get_by_label("Username").fill("staffer")
    page.get_by_label("Password").fill("secret-pass-1")
    page.get_by_role("button", name="Log in").click()


def test_staff_user_logs_in_to_admin_and_sees_sbsync_models(
    watched_page: Page, live_server, screenshot, transactional_db
):
    page = watched_page
    log_in_to_admin(page, live_server)

    sbsync = page.locator("#content-main .app-sbsync")
    expect(sbsync).to_contain_text("Organizations")
    expect(sbsync).to_contain_text("Model permissions")
    expect(sbsync).to_contain_text("Data filters")
    expect(sbsync).to_contain_text("Sync logs")
    expect(sbsync).to_contain_text("API tokens")
    screenshot(page, "admin-index")


def test_the_ui_and_the_admin_link_to_each_other_for_the_same_object(
    watched_page: Page, live_server, screenshot, transactional_db, viewport
):
    acme = make_organization(name="Acme", slug="acme")
    log = make_sync_log(organization=acme)
    make_metrics(log=log, organization=acme)
    page = watched_page
    log_in_to_admin(page, live_server)
    width = viewport["width"]

    page.goto(f"{live_server.url}{CONFIG}organizations/acme/")
    page.get_by_role("link", name="In the Django admin").click()
    expect(page).to_have_url(re.compile(rf"/admin/sbsync/organization/{acme.pk}/change/"))
    screenshot(page, f"admin-organization-{width}")
    page.get_by_role("link", name="View on site").click()
    expect(page).to_have_url(f"{live_server.url}{CONFIG}organizations/acme/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme")

    page.goto(f"{live_server.url}{CONFIG}metrics/")
    page.get_by_role("link", name="In the Django admin").click()
    expect(page).to_have_url(re.compile(r"/admin/sbsync/performancemetrics/$"))
    page.locator("#result_list tbody a").first.click()
    expect(page).to_have_url(
        re.compile(rf"/admin/sbsync/performancemetrics/{PerformanceMetrics.objects.get().pk}/change/")
    )
    page.get_by_role("link", name="View on site").click()
    expect(page).to_have_url(f"{live_server.url}{CONFIG}logs/{log.code}/")
    page.get_by_role("link", name="In the Django admin").click()
    expect(page).to_have_url(re.compile(rf"/admin/sbsync/synclog/{log.pk}/change/"))
