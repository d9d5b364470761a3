from __future__ import annotations

import re

from django.urls import reverse

from sbsync import discovery
from sbsync.access import access_for
from sbsync.models import ConfigGeneration, DiscoveryConfig
from tests.ui.conftest import HTMX

PAGE = reverse("sbsync:model-discovery")
PREVIEW = reverse("sbsync:model-discovery-preview")
SETTINGS = {"auto_discover_models": "on", "shared_models": ["shop.Product"]}


def enabled_in(html: str) -> list[str]:
    return re.findall(r'data-model="([\w.]+)" data-enabled="true"', html)


def test_page_shows_the_current_settings_and_their_models(staff_client, db):
    response = staff_client.get(PAGE)

    html = response.content.decode()
    assert enabled_in(html) == ["shop.Customer", "shop.Order", "shop.Product", "shop.Report"]
    assert re.search(r'name="shared_models" value="shop.Product"[^>]*checked', html)
    assert not re.search(r'name="exclude_models" value="[\w.]+"[^>]*checked', html)
    assert "the project's settings apply now" in html


def test_preview_shows_what_the_unsaved_form_enables_and_saves_nothing(staff_client, db):
    response = staff_client.get(
        PREVIEW, {**SETTINGS, "exclude_models": ["shop.Order", "shop.Report"]}, headers=HTMX
    )

    html = response.content.decode()
    assert html.lstrip().startswith('<section id="discovery-preview"')
    assert "<html" not in html
    assert enabled_in(html) == ["shop.Customer", "shop.Product"]
    assert 'data-enabled-count="2"' in html
    assert "listed in EXCLUDE_MODELS" in html
    assert not DiscoveryConfig.objects.exists()


def test_preview_without_auto_discovery_enables_only_included_models(staff_client, db):
    response = staff_client.get(PREVIEW, {"include_models": ["shop.Order"]}, headers=HTMX)

    assert enabled_in(response.content.decode()) == ["shop.Order"]


def test_preview_plain_request_gets_the_page_with_the_form_as_sent(staff_client, db):
    response = staff_client.get(
        PREVIEW, {**SETTINGS, "include_apps": ["shop"], "exclude_models": ["shop.Order"]}
    )

    html = response.content.decode()
    assert b"<html" in response.content
    assert re.search(r'name="exclude_models" value="shop.Order"[^>]*checked', html)
    assert "shop.Order" not in enabled_in(html)


def test_preview_invalid_choice_reports_instead_of_previewing(staff_client, db):
    response = staff_client.get(PREVIEW, {"exclude_models": ["auth.User"]}, headers=HTMX)

    assert "Fix the settings to see a preview." in response.content.decode()


def test_save_stores_the_settings_with_history_and_the_api_follows(staff_client, staff_user, trio):
    generation = ConfigGeneration.current()

    response = staff_client.post(PAGE, {**SETTINGS, "exclude_models": ["shop.Order"]})

    config = DiscoveryConfig.objects.get()
    assert response["Location"] == PAGE
    assert (config.auto_discover_models, config.exclude_models, config.shared_models) == (
        True,
        ["shop.Order"],
        ["shop.Product"],
    )
    assert config.history.get().history_user == staff_user
    assert ConfigGeneration.current() != generation
    assert discovery.get_sync_model("shop.Order") is None
    assert access_for(trio.alice, trio.acme).can("shop.Order", "push") is False
    assert access_for(trio.alice, trio.acme).can("shop.Customer", "push") is True


def test_save_invalid_choice_rerenders_with_the_error(staff_client, db):
    response = staff_client.post(PAGE, {"shared_models": ["shop.Customer"]})

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not DiscoveryConfig.objects.exists()


def test_reset_asks_first_with_what_changes(staff_client, db):
    DiscoveryConfig.objects.create(auto_discover_models=False, include_models=["shop.Order"])

    response = staff_client.post(PAGE, {"reset": "1"})

    html = response.content.decode()
    assert DiscoveryConfig.objects.exists()
    assert "Reset to the project's settings?" in html
    assert "3 models enabled (shop.Customer, shop.Product, shop.Report)" in html
    assert 'name="reset" value="confirmed"' in html


def test_save_enabling_no_model_warns_with_the_count_and_saves_nothing(staff_client, db):
    enabled_now = len(discovery.enabled_models())

    response = staff_client.post(PAGE, {"include_apps": []})

    html = response.content.decode()
    assert not DiscoveryConfig.objects.exists()
    assert f"Saving them disables the {enabled_now} models enabled now" in html
    assert 'name="confirm_empty"' in html


def test_save_enabling_no_model_when_confirmed(staff_client, db):
    response = staff_client.post(PAGE, {"confirm_empty": "1"})

    assert response["Location"] == PAGE
    assert discovery.enabled_models() == []


def test_reset_deletes_the_saved_settings(staff_client, staff_user, db):
    DiscoveryConfig.objects.create(auto_discover_models=False)

    response = staff_client.post(PAGE, {"reset": "confirmed"})

    assert response["Location"] == PAGE
    assert not DiscoveryConfig.objects.exists()
    assert DiscoveryConfig.history.filter(history_type="-").get().history_user == staff_user
    assert discovery.current_config().source == "settings"
