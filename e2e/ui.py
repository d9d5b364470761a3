"""Helpers of the staff-UI journeys: signing in through the login page, URLs, waiting for htmx."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.factories import grant, make_user, sbsync_permissions

PASSWORD = "staff-pass-1"
CONFIG = "/api/sync/config/"


def sign_in(page: Page, live_server, *, next_path: str = CONFIG) -> None:
    """Create a staff user holding every permission of sbsync's models and sign in through the UI's own
    login page, landing on ``next_path``."""
    grant(make_user(username="staffer", password=PASSWORD, is_staff=True), *sbsync_permissions())
    page.goto(f"{live_server.url}{next_path}")
    expect(page).to_have_url(re.compile(rf"{re.escape(live_server.url)}{CONFIG}login/\?next="))
    page.get_by_label("Username").fill("staffer")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{live_server.url}{next_path}")
    page.wait_for_load_state()  # the page's deferred scripts have run


def settled(page: Page) -> None:
    """Wait until htmx has no request in flight."""
    page.wait_for_function("() => document.querySelectorAll('.htmx-request').length === 0")
