from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.factories import make_user


def test_staff_user_logs_in_to_admin_and_sees_sbsync_models(
    watched_page: Page, live_server, screenshot, transactional_db
):
    make_user(username="staffer", password="secret-pass-1", is_staff=True, is_superuser=True)
    page = watched_page

    page.goto(f"{live_server.url}/admin/")
    page.get_by_label("Username").fill("staffer")
    page.get_by_label("Password").fill("secret-pass-1")
    page.get_by_role("button", name="Log in").click()

    sbsync = page.locator("#content-main .app-sbsync")
    expect(sbsync).to_contain_text("Organizations")
    expect(sbsync).to_contain_text("Model permissions")
    expect(sbsync).to_contain_text("Data filters")
    expect(sbsync).to_contain_text("Sync logs")
    screenshot(page, "admin-index")
