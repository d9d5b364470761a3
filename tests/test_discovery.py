from __future__ import annotations

import pytest

from sbsync import discovery
from sbsync.demo.shop.models import Customer, Order, Product, Report
from sbsync.models import DiscoveryConfig


def labels(models) -> list[str]:
    return sorted(m._meta.label for m in models)


def test_candidates_are_project_models_only():
    assert labels(discovery.candidate_models()) == [
        "shop.Customer",
        "shop.Order",
        "shop.Product",
        "shop.Report",
    ]


def test_demo_settings_enable_tenant_models_and_the_shared_product(db):
    statuses = {s.label: s for s in discovery.evaluate()}

    assert labels(discovery.enabled_models()) == [
        "shop.Customer",
        "shop.Order",
        "shop.Product",
        "shop.Report",
    ]
    assert statuses["shop.Product"].shared is True
    assert statuses["shop.Customer"].tenant_field == "organization"


def test_model_without_tenant_field_is_disabled_unless_shared(db, settings):
    settings.SBSYNC = {"SHARED_MODELS": []}

    statuses = {s.label: s for s in discovery.evaluate()}

    assert statuses["shop.Product"].enabled is False
    assert "not in SHARED_MODELS" in statuses["shop.Product"].reason


def test_exclude_models_and_include_apps(db, settings):
    settings.SBSYNC = {"EXCLUDE_MODELS": ["shop.Order"], "SHARED_MODELS": ["shop.Product"]}
    assert labels(discovery.enabled_models()) == ["shop.Customer", "shop.Product", "shop.Report"]

    settings.SBSYNC = {"INCLUDE_APPS": ["auth"]}
    assert discovery.enabled_models() == []


def test_auto_discovery_off_enables_only_included_models(db, settings):
    settings.SBSYNC = {"AUTO_DISCOVER_MODELS": False, "INCLUDE_MODELS": ["shop.Report"]}

    assert discovery.enabled_models() == [Report]


def test_database_configuration_overrides_settings(db):
    DiscoveryConfig.objects.create(exclude_models=["shop.Customer"], shared_models=[])

    assert discovery.current_config().source == "database"
    assert labels(discovery.enabled_models()) == ["shop.Order", "shop.Report"]


def test_lookup_is_case_insensitive_and_refuses_disabled_models(db, settings):
    settings.SBSYNC = {"EXCLUDE_MODELS": ["shop.Order"], "SHARED_MODELS": ["shop.Product"]}

    assert discovery.get_sync_model("SHOP.customer") is Customer
    assert discovery.get_sync_model("shop.Order") is None
    assert discovery.get_sync_model("auth.User") is None
    assert discovery.get_sync_model("shop.product") is Product


def test_read_only_fields_are_tenant_auto_timestamps_and_configured(settings):
    settings.SBSYNC = {"READ_ONLY_FIELDS": {"shop.Customer": ["age"]}}

    assert discovery.read_only_fields(Customer) == {"organization", "updated_at", "age"}
    assert discovery.read_only_fields(Order) == {"organization", "created_at"}


def test_describe_model_tells_a_client_how_to_write_records():
    described = discovery.describe_model(Customer)

    fields = {f["name"]: f for f in described["fields"]}
    assert described["pk"] == "id"
    assert fields["name"] == {
        "name": "name",
        "type": "CharField",
        "required": True,
        "read_only": False,
        "null": False,
        "max_length": 200,
    }
    assert fields["department"]["choices"] == ["SALES", "SUPPORT", "ENGINEERING", "MARKETING", "FINANCE"]
    assert fields["assigned_manager"]["related_model"] == "auth.User"
    assert fields["organization"]["read_only"] is True


def test_describe_model_shows_no_internal_length_for_uuid_keys():
    fields = {f["name"]: f for f in discovery.describe_model(Customer)["fields"]}

    assert fields["id"] == {
        "name": "id",
        "type": "UUIDField",
        "required": False,
        "read_only": False,
        "null": False,
        "primary_key": True,
    }


@pytest.mark.parametrize("label", ["", None, "shop", "shop.Customer.x"])
def test_malformed_labels_are_not_models(db, label):
    assert discovery.get_sync_model(label) is None
