"""List pages and forms as a staff user works them: nothing clipped, filters keep the sort and pages keep
both, refreshes keep focus and scroll, every form reports a server failure, messages never go stale, a
reload never adds a member twice, discovery asks before disabling everything, data filters read well."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from e2e.ui import CONFIG, settled, sign_in
from sbsync.enums import Operation
from sbsync.models import DataFilter, DiscoveryConfig, Membership
from sbsync.service_tokens import issue_service_token
from tests.factories import (
    make_filter,
    make_group,
    make_membership,
    make_organization,
    make_sync_log,
    make_user,
)


@pytest.fixture
def acme(transactional_db):
    organization = make_organization(name="Acme", slug="acme")
    sales = make_group("Sales")
    return organization, sales


def test_action_columns_are_never_clipped(watched_page: Page, live_server, screenshot, acme, viewport):
    organization, sales = acme
    owner = make_user(username="a_service_account_with_a_rather_long_name")
    issue_service_token(
        user=owner, name="a token with a long descriptive name", issued_by=None, lifetime=timedelta(days=90)
    )
    make_filter(organization=organization, group=sales, name="Only the customers assigned to the member")
    page = watched_page
    sign_in(page, live_server, next_path=f"{CONFIG}tokens/")
    # On a desktop, the narrowest desktop width the layout promises (1280) as well as this screen.
    widths = [1280, viewport["width"]] if viewport["width"] >= 1280 else [viewport["width"]]

    for width, (path, button) in [
        (w, p) for w in widths for p in (("tokens/", "Revoke"), ("filters/", "Delete"))
    ]:
        page.set_viewport_size({**viewport, "width": width})
        page.goto(f"{live_server.url}{CONFIG}{path}")
        target = page.get_by_role("button", name=re.compile(f"^{button} ")).first
        target.scroll_into_view_if_needed()
        bounds = target.bounding_box()
        assert bounds["x"] >= 0 and bounds["x"] + bounds["width"] <= width, (
            f"{button} is clipped at {width}px"
        )
        container = page.locator(".table-container").first
        wide = container.evaluate("el => el.scrollWidth > el.clientWidth + 1")
        if wide:
            expect(page.locator("[data-scroll-hint]").first).to_be_visible()
        elif width >= 1280:
            assert page.locator("table th").last.bounding_box()["x"] < width
        screenshot(page, f"clipping-{path.strip('/')}-{width}")


def test_filters_keep_the_sort_and_page_links_keep_both(watched_page: Page, live_server, acme, viewport):
    organization, _ = acme
    now = timezone.now()
    for n in range(120):
        make_sync_log(
            user=make_user(username=f"user{n:03d}") if n < 3 else None,
            organization=organization,
            operation=Operation.PUSH if n % 2 else Operation.PULL,
            timestamp=now - timedelta(minutes=n),
        )
    page = watched_page
    sign_in(page, live_server, next_path=f"{CONFIG}logs/")

    page.locator("#sync-logs-table thead").get_by_role("link", name="Records").click()
    settled(page)
    expect(page).to_have_url(re.compile(r"sort=object_count"))
    page.get_by_label("Operation").select_option("PUSH")
    settled(page)
    expect(page).to_have_url(
        re.compile(r"operation=PUSH.*sort=object_count|sort=object_count.*operation=PUSH")
    )
    page.get_by_role("navigation", name="Pages").get_by_role("link", name="2").click()
    settled(page)

    expect(page).to_have_url(re.compile(r"page=2"))
    assert "sort=object_count" in page.url and "operation=PUSH" in page.url
    expect(page.locator("#sync-logs-table .table-meta")).to_contain_text("60 logs")

    page.get_by_label("User").fill("USER00")
    page.get_by_label("User").press("Enter")
    settled(page)
    expect(page.locator("#sync-logs-table .table-meta")).to_contain_text("1 log")


@pytest.mark.parametrize("path", ["logs/", ""])
def test_auto_refresh_keeps_focus_and_scroll(watched_page: Page, live_server, acme, path, viewport):
    organization, _ = acme
    for n in range(60):
        make_sync_log(organization=organization, timestamp=timezone.now() - timedelta(minutes=n))
    page = watched_page
    page.clock.install()
    sign_in(page, live_server, next_path=f"{CONFIG}{path}")
    region = "#sync-logs-table tbody a" if path else "#dashboard-live .activity a"
    link = page.locator(region).nth(5)
    link.focus()
    # The reader scrolled the focused link to mid-screen (the desktop dashboard fits its screen: there
    # is nothing to scroll, the focus is still checked).
    link.evaluate("el => el.scrollIntoView({block: 'center'})")
    if page.evaluate("() => document.documentElement.scrollHeight > innerHeight"):
        page.wait_for_function("() => window.scrollY > 0")
    href = link.get_attribute("href")
    on_screen = link.bounding_box()["y"]
    scrolled = page.evaluate("() => window.scrollY")
    make_sync_log(organization=organization, object_count=4242)

    with page.expect_response(lambda r: r.request.headers.get("hx-request") == "true"):
        page.clock.run_for(31_000)
    settled(page)

    if path:
        expect(page.locator("#sync-logs-table")).to_contain_text("4242")
    assert page.evaluate("() => document.activeElement.getAttribute('href')") == href
    # The page did not jump to the top: it kept its scroll, or (the browser's scroll anchoring, when rows
    # are added above) kept the focused log where it was on screen.
    moved = abs(page.locator(f'a[href="{href}"]').bounding_box()["y"] - on_screen)
    assert page.evaluate("() => window.scrollY") == scrolled or moved <= 2


@pytest.mark.parametrize("failure", ["500", "network"])
def test_a_form_reports_a_server_failure_in_the_message_area(
    page: Page, live_server, screenshot, acme, failure, viewport
):
    """Not a watched page: the failed request logs its error."""
    sign_in(page, live_server, next_path=f"{CONFIG}organizations/")
    if failure == "500":
        page.route(
            re.compile(r".*/organizations/$"), lambda route: route.fulfill(status=500, body="<h1>Oops</h1>")
        )
    else:
        page.route(re.compile(r".*/organizations/$"), lambda route: route.abort())
    form = page.locator("#organization-create")
    form.get_by_label("Name", exact=True).fill("Initech")
    form.get_by_label("Slug").fill("initech")

    page.get_by_role("button", name="Create organization").click()

    expected = "error 500" if failure == "500" else "the server could not be reached"
    expect(page.locator("#errors")).to_contain_text(expected)
    expect(page.locator("#errors")).to_contain_text("Not saved")
    expect(form.get_by_label("Name", exact=True)).to_have_value("Initech")
    expect(page.locator("#errors")).to_be_in_viewport()
    screenshot(page, f"form-failure-{failure}-{viewport['width']}")


def test_in_place_deletes_show_their_own_message_never_a_stale_one(
    watched_page: Page, live_server, acme, viewport
):
    organization, sales = acme
    make_filter(organization=organization, group=sales, name="First")
    make_filter(organization=organization, group=sales, name="Second")
    page = watched_page
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, live_server, next_path=f"{CONFIG}filters/")

    page.get_by_role("button", name="Delete First").click()
    expect(page.locator("#messages")).to_have_text("Data filter “First” deleted.")
    page.get_by_role("button", name="Delete Second").click()

    expect(page.locator("#messages")).to_have_text("Data filter “Second” deleted.")
    expect(page.locator("#data-filters-table tbody tr")).to_have_count(0)
    assert not DataFilter.objects.exists()


def test_add_member_then_reload_adds_nothing_and_a_member_can_be_removed_with_history(
    watched_page: Page, live_server, screenshot, acme, viewport
):
    organization, sales = acme
    make_user(username="dave")
    page = watched_page
    page.on("dialog", lambda dialog: dialog.accept())
    sign_in(page, live_server, next_path=f"{CONFIG}organizations/acme/")

    page.get_by_label("Username").fill("nobody")
    page.get_by_role("button", name="Add member").click()
    expect(page.locator("#member-add")).to_contain_text("There is no user named “nobody”.")
    page.get_by_label("Username").fill("dave")
    page.locator("#member-add").get_by_label("Group").select_option(label="Sales")
    page.get_by_role("button", name="Add member").click()
    expect(page.locator("#messages")).to_contain_text("dave added to Acme as Sales.")
    page.reload()

    expect(page.locator(".member-list")).to_contain_text("dave")
    assert Membership.objects.filter(user__username="dave", organization=organization).count() == 1

    page.get_by_role("button", name="Remove dave").click()
    expect(page.locator("#messages")).to_contain_text("dave removed from Acme.")
    expect(page.locator(".member-list li")).to_have_count(0)
    assert not Membership.objects.filter(user__username="dave").exists()

    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Audit trail").click()
    page.get_by_label("Model").select_option("membership")
    settled(page)
    removed = page.locator("#audit-table tbody tr").first
    expect(removed).to_contain_text("dave in Acme")
    expect(removed.locator(".badge")).to_have_text("deleted")
    expect(removed.locator(".diff")).to_contain_text("Sales")  # its last values
    screenshot(page, f"audit-member-removed-{viewport['width']}")


def test_discovery_asks_before_disabling_every_model_and_before_reset(
    watched_page: Page, live_server, screenshot, acme, viewport
):
    page = watched_page
    sign_in(page, live_server, next_path=f"{CONFIG}model-discovery/")

    page.get_by_label("Discover models automatically").uncheck()
    page.get_by_role("button", name="Save settings").click()

    expect(page.get_by_role("alertdialog")).to_contain_text("These settings enable no model.")
    expect(page.get_by_role("alertdialog")).to_contain_text("disables the 4 models enabled now")
    screenshot(page, f"model-discovery-warning-{viewport['width']}")
    assert not DiscoveryConfig.objects.exists()
    page.get_by_role("button", name="Save anyway, disabling 4 models").click()
    expect(page.locator("#messages")).to_contain_text("Discovery settings saved.")
    assert DiscoveryConfig.objects.get().auto_discover_models is False

    page.get_by_role("button", name="Reset to project settings").click()
    expect(page.get_by_role("alertdialog")).to_contain_text("4 models enabled")
    assert DiscoveryConfig.objects.exists()
    page.get_by_role("alertdialog").get_by_role("button", name="Reset to project settings").click()
    expect(page.locator("#messages")).to_contain_text("Discovery settings reset")
    assert not DiscoveryConfig.objects.exists()


def test_data_filters_read_operators_by_label_and_empty_submit_gives_field_errors(
    watched_page: Page, live_server, screenshot, acme, viewport
):
    organization, sales = acme
    make_filter(
        organization=organization,
        group=sales,
        model_label="shop.Order",
        name="Big orders",
        condition={"field": "total", "operator": "gte", "value": 100},
    )
    page = watched_page
    sign_in(page, live_server, next_path=f"{CONFIG}filters/")
    expect(page.locator("#data-filters-table")).to_contain_text("total at least 100")
    page.get_by_role("link", name="Add a data filter").click()
    expect(page.get_by_label("Operator")).to_contain_text("at least")

    page.get_by_role("button", name="Save").click()

    expect(page.locator("#filter-form")).to_contain_text("Enter a value for the condition.")
    expect(page.locator("#filter-form")).not_to_contain_text("UUID")
    screenshot(page, f"data-filter-errors-{viewport['width']}")
    assert DataFilter.objects.count() == 1


def test_organization_slug_follows_the_name_until_edited(watched_page: Page, live_server, acme, viewport):
    make_membership(organization=acme[0], group=acme[1])
    page = watched_page
    sign_in(page, live_server, next_path=f"{CONFIG}organizations/")
    page.wait_for_load_state()  # the page's scripts run before typing starts
    form = page.locator("#organization-create")

    form.get_by_label("Name", exact=True).press_sequentially("Initech Systems Ltd.")

    expect(form.get_by_label("Slug")).to_have_value("initech-systems-ltd")
    form.get_by_label("Slug").fill("initech")
    form.get_by_label("Name", exact=True).press_sequentially(" 2")
    expect(form.get_by_label("Slug")).to_have_value("initech")
