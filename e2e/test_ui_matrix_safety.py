"""Permission matrix, as a demanding staff user works it: bulk changes ask with their count per group and
can be undone, a save in progress shows and queues a second click, a failed save (server error, expired
session) says why in place and can be retried, headers stay in view, and the keyboard moves through the
grid with one Tab stop. At desktop and phone width."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import Page, expect

from e2e.ui import CONFIG, settled, sign_in
from sbsync.models import ModelPermission
from tests.factories import make_group, make_organization, make_permission

MATRIX = f"{CONFIG}permissions/?organization=acme"


@pytest.fixture
def acme(transactional_db):
    """Acme with seven groups (42 columns); Administrators and Sales can do everything on customers."""
    organization = make_organization(name="Acme", slug="acme")
    groups = [make_group(name) for name in ("Administrators", "Analysts", "Auditors", "Drivers", "Office")]
    sales, warehouse = make_group("Sales"), make_group("Warehouse")
    for group in (groups[0], sales):
        make_permission(
            organization=organization,
            group=group,
            model_label="shop.Customer",
            actions=["push", "pull", "create", "update", "delete", "read"],
        )
    return organization, sales, warehouse


def box(page: Page, group: Group, model: str, action: str):
    return page.get_by_role("checkbox", name=f"{group.name}: {action} {model}")


def flags(organization, group, label: str) -> dict[str, bool] | None:
    row = ModelPermission.objects.filter(organization=organization, group=group, model_label=label).first()
    return row.flags() if row else None


def test_a_bulk_change_asks_with_its_count_per_group_and_one_undo_puts_it_back(
    watched_page: Page, live_server, screenshot, acme, viewport
):
    organization, sales, _ = acme
    width = viewport["width"]
    page = watched_page
    sign_in(page, live_server, next_path=MATRIX)
    before = sorted(ModelPermission.objects.values_list("group__name", "model_label", "can_push", "can_read"))

    page.get_by_role("button", name="Revoke every permission on shop.Customer from every group shown").click()

    question = page.locator("#matrix-confirm")
    expect(question).to_contain_text("Revoke 12 permissions in Acme?")
    expect(question.locator(".per-group li")).to_have_text(["Administrators: 6", "Sales: 6"])
    expect(page.get_by_role("button", name="Revoke 12")).to_be_focused()
    assert sorted(
        ModelPermission.objects.values_list("group__name", "model_label", "can_push", "can_read")
    ) == (before)
    screenshot(page, f"permissions-bulk-question-{width}")

    page.get_by_role("button", name="Revoke 12").click()
    settled(page)

    expect(page.locator("#matrix-status")).to_contain_text(
        "Revoked 12 permissions in Acme (Administrators 6, Sales 6)."
    )
    expect(box(page, sales, "shop.Customer", "push")).not_to_be_checked()
    assert flags(organization, sales, "shop.Customer") == dict.fromkeys(
        ["push", "pull", "create", "update", "delete", "read"], False
    )

    page.get_by_role("button", name="Undo").click()
    settled(page)

    expect(page.locator("#matrix-status")).to_contain_text("Undone: 12 permissions set back in Acme.")
    expect(box(page, sales, "shop.Customer", "push")).to_be_checked()
    assert sorted(
        ModelPermission.objects.values_list("group__name", "model_label", "can_push", "can_read")
    ) == (before)


def test_cancel_of_a_bulk_question_changes_nothing(watched_page: Page, live_server, acme, viewport):
    organization, sales, _ = acme
    page = watched_page
    sign_in(page, live_server, next_path=MATRIX)

    page.get_by_role("button", name="Deselect everything").click()
    expect(page.locator("#matrix-confirm")).to_be_visible()
    page.get_by_role("link", name="Cancel").click()

    expect(page.locator("#matrix-confirm")).to_have_count(0)
    expect(page.locator("#matrix-status")).to_have_text("Nothing changed.")
    assert flags(organization, sales, "shop.Customer")["push"] is True


def test_a_pending_save_shows_and_a_second_click_is_queued_not_dropped(
    watched_page: Page, live_server, acme, viewport
):
    organization, _, warehouse = acme
    page = watched_page
    sign_in(page, live_server, next_path=MATRIX)
    held = []
    page.route(
        re.compile(r".*/permissions/cell/$"),
        lambda route: held.append(route) if not held else route.continue_(),
    )
    push = box(page, warehouse, "shop.Order", "push")
    cell = page.locator(f"#cell-{warehouse.pk}-shop-order-push")

    push.click()
    expect(cell.locator("[data-cell-status]")).to_have_text("Saving…")
    expect(cell).to_have_attribute("aria-busy", "true")
    push.click()
    expect(cell.locator("[data-cell-status]")).to_have_text("Queued…")
    held[0].continue_()

    expect(cell.locator("[data-cell-status]")).to_have_text("Saved")
    settled(page)
    expect(push).not_to_be_checked()
    assert flags(organization, warehouse, "shop.Order")["push"] is False
    changes = ModelPermission.history.filter(group=warehouse, model_label="shop.Order").order_by("history_id")
    assert [h.can_push for h in changes] == [True, False]


def test_an_expired_session_keeps_the_change_and_offers_to_retry(page: Page, live_server, acme, viewport):
    """Not a watched page: the refused request logs its 401."""
    organization, _, warehouse = acme
    sign_in(page, live_server, next_path=MATRIX)
    cookies = page.context.cookies()
    session = next(c for c in cookies if c["name"] == "sessionid")
    page.context.clear_cookies()
    page.context.add_cookies([c for c in cookies if c["name"] != "sessionid"])  # the CSRF cookie outlives it
    push = box(page, warehouse, "shop.Report", "push")

    push.click()

    errors = page.locator("#errors")
    expect(errors).to_contain_text("Your session has expired, so the change was not saved.")
    expect(errors.get_by_role("link", name="Log in again (new tab)")).to_have_attribute(
        "href", re.compile(r"/login/\?next=")
    )
    expect(page.locator(f"#cell-{warehouse.pk}-shop-report-push [data-cell-status]")).to_have_text("Failed")
    expect(push).not_to_be_checked()
    expect(page.locator("h1")).to_have_text("Permission matrix")
    assert flags(organization, warehouse, "shop.Report") is None

    page.context.add_cookies([session])
    errors.get_by_role("button", name="Retry").click()
    settled(page)

    expect(push).to_be_checked()
    assert flags(organization, warehouse, "shop.Report")["push"] is True


def test_a_server_error_lands_in_the_message_area_and_never_replaces_the_page(
    page: Page, live_server, screenshot, acme, viewport
):
    """Not a watched page: the refused request logs its 500."""
    _, _, warehouse = acme
    sign_in(page, live_server, next_path=MATRIX)
    page.route(
        re.compile(r".*/permissions/bulk/$"),
        lambda route: route.fulfill(
            status=500, content_type="text/html", body="<html><body><h1>Traceback (DEBUG)</h1></body></html>"
        ),
    )

    page.get_by_role("button", name="Select everything", exact=True).click()

    expect(page.locator("#errors")).to_contain_text("Not saved: the server answered with error 500")
    expect(page.locator("h1")).to_have_text("Permission matrix")
    expect(page.get_by_text("Traceback (DEBUG)")).to_have_count(0)
    expect(box(page, warehouse, "shop.Order", "pull")).to_be_attached()
    expect(page.locator("#errors")).to_be_in_viewport()
    screenshot(page, f"permissions-server-error-{viewport['width']}")


def test_group_headers_and_organization_stay_in_view_and_the_selector_narrows_the_groups(
    watched_page: Page, live_server, screenshot, acme, viewport
):
    _, sales, warehouse = acme
    width = viewport["width"]
    page = watched_page
    sign_in(page, live_server, next_path=MATRIX)
    scroller = page.locator(".matrix-scroll")
    expect(page.locator("[data-scroll-hint]").first).to_be_visible()

    scroller.evaluate("el => { el.scrollLeft = el.scrollWidth; el.scrollTop = el.scrollHeight; }")

    box_of = scroller.bounding_box()
    for locator in (page.locator(".group-name", has_text="Warehouse"), page.locator(".corner-org")):
        head = locator.bounding_box()
        assert box_of["y"] - 1 <= head["y"] <= box_of["y"] + 130  # within the sticky header rows
        assert box_of["x"] - 1 <= head["x"] < box_of["x"] + box_of["width"]
    screenshot(page, f"permissions-scrolled-{width}")

    page.get_by_role("group", name=re.compile("Groups shown")).get_by_label("Sales").check()
    page.get_by_role("group", name=re.compile("Groups shown")).get_by_label("Warehouse").check()
    settled(page)

    expect(page.locator(".group-name")).to_have_text(["Sales", "Warehouse"])
    expect(page).to_have_url(re.compile(rf"groups={sales.pk}&groups={warehouse.pk}"))
    assert page.locator(".corner-org").inner_text() == "Acme"


def test_the_grid_is_one_tab_stop_with_arrow_keys_and_big_enough_targets(
    watched_page: Page, live_server, acme, viewport
):
    organization, sales, _ = acme
    minimum = 44 if viewport["width"] < 700 else 24  # touch-sized targets on a phone
    administrators = Group.objects.get(name="Administrators")
    page = watched_page
    sign_in(page, live_server, next_path=MATRIX)

    presses = 0
    while not page.evaluate("() => document.activeElement.matches('[data-matrix-cell]')"):
        page.keyboard.press("Tab")
        presses += 1
        assert presses < 30, "the first box is not reached within 30 Tab presses"
    expect(box(page, administrators, "shop.Customer", "push")).to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(box(page, administrators, "shop.Customer", "pull")).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(box(page, administrators, "shop.Order", "pull")).to_be_focused()
    page.keyboard.press("Space")
    settled(page)
    expect(box(page, administrators, "shop.Order", "pull")).to_be_checked()
    expect(box(page, administrators, "shop.Order", "pull")).to_be_focused()
    assert flags(organization, administrators, "shop.Order")["pull"] is True
    page.keyboard.press("Tab")
    assert not page.evaluate("() => document.activeElement.closest('[data-grid]') !== null")

    sizes = page.locator(".bulk-button, [data-matrix-cell]").evaluate_all(
        "els => els.map(e => { const r = (e.closest('label') || e).getBoundingClientRect();"
        " return Math.min(r.width, r.height); })"
    )
    assert min(sizes) >= minimum
    assert presses <= 30
