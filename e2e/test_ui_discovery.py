"""Model discovery: the preview follows the form before anything is saved; saving applies it."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from e2e.ui import CONFIG, settled, sign_in
from sbsync import discovery
from sbsync.models import DiscoveryConfig


def enabled(page: Page) -> list[str]:
    return page.locator('#discovery-preview [data-enabled="true"]').evaluate_all(
        "els => els.map(e => e.dataset.model)"
    )


def test_changing_discovery_settings_updates_the_live_preview_before_saving(
    watched_page: Page, live_server, screenshot, transactional_db, viewport
):
    page = watched_page
    sign_in(page, live_server, next_path=f"{CONFIG}model-discovery/")
    assert enabled(page) == ["shop.Customer", "shop.Order", "shop.Product", "shop.Report"]

    page.get_by_role("group", name="Exclude models").get_by_label("shop.Order").check()
    settled(page)

    expect(page.locator("#discovery-preview .preview-counts")).to_have_text("3 of 4 models enabled")
    assert enabled(page) == ["shop.Customer", "shop.Product", "shop.Report"]
    expect(page.locator('[data-model="shop.Order"]')).to_contain_text("removed")
    assert not DiscoveryConfig.objects.exists()

    page.get_by_label("Discover models automatically").uncheck()
    settled(page)
    page.get_by_role("group", name="Include models").get_by_label("shop.Report").check()
    settled(page)

    assert enabled(page) == ["shop.Report"]
    assert not DiscoveryConfig.objects.exists()
    screenshot(page, f"model-discovery-preview-{viewport['width']}")

    page.get_by_role("button", name="Save settings").click()

    expect(page.locator("#messages")).to_contain_text("Discovery settings saved.")
    assert [m._meta.label for m in discovery.enabled_models()] == ["shop.Report"]
    assert enabled(page) == ["shop.Report"]
    expect(page.get_by_label("Discover models automatically")).not_to_be_checked()
