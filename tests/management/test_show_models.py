from __future__ import annotations

import pytest
from django.core.management.base import CommandError

from sbsync.models import DiscoveryConfig
from tests.factories import make_customer
from tests.management.helpers import run

pytestmark = pytest.mark.django_db


def test_show_models_summary_lists_the_project_models_and_none_of_djangos():
    out, _ = run("show_models", "--action", "summary")

    assert "Discovery configuration from settings (SBSYNC):" in out
    assert "  SHARED_MODELS         shop.Product\n" in out
    assert "4 of 4 candidate models enabled (3 tenant, 1 shared pull-only)." in out
    assert (
        "shop: 4 of 4 enabled\n  enabled:  shop.Customer, shop.Order, shop.Product (shared), shop.Report\n"
        in out
    )
    for foreign in ("auth.", "contenttypes.", "sessions.", "admin.", "sbsync.", "knox.", "Historical"):
        assert foreign not in out


def test_show_models_summary_is_the_default_action():
    assert run("show_models") == run("show_models", "--action", "summary")


def test_show_models_summary_reports_the_database_configuration():
    DiscoveryConfig.objects.create(exclude_models=["shop.Order"], shared_models=["shop.Product"])

    out, _ = run("show_models", "--action", "summary")

    assert "Discovery configuration from the database (saved from the web UI):" in out
    assert "  EXCLUDE_MODELS        shop.Order\n" in out
    assert "  enabled:  shop.Customer, shop.Product (shared), shop.Report\n  disabled: shop.Order\n" in out
    assert out.endswith("--action default shows settings alone.\n")


def test_show_models_all_gives_every_candidate_and_why(settings):
    settings.SBSYNC = {"EXCLUDE_MODELS": ["shop.Report"]}

    out, _ = run("show_models", "--action", "all")

    assert out.splitlines() == [
        "4 candidate models (configuration from settings):",
        "  enabled   shop.Customer                    tenant field organization: auto-discovered",
        "  enabled   shop.Order                       tenant field organization: auto-discovered",
        "  disabled  shop.Product                     no tenant field: no 'organization' foreign key and not in SHARED_MODELS",
        "  disabled  shop.Report                      tenant field organization: listed in EXCLUDE_MODELS",
    ]


def test_show_models_enabled_lists_only_enabled_models(settings):
    settings.SBSYNC = {"EXCLUDE_MODELS": ["shop.Report"], "SHARED_MODELS": ["shop.Product"]}

    out, _ = run("show_models", "--action", "enabled", "--verbose")

    assert out.splitlines() == [
        "3 enabled models (configuration from settings):",
        "  enabled   shop.Customer                    tenant field organization: auto-discovered",
        "            fields: id, name, age, department, assigned_manager, organization, updated_at",
        "  enabled   shop.Order                       tenant field organization: auto-discovered",
        "            fields: id, customer, amount, status, organization, created_at",
        "  enabled   shop.Product                     shared, pull-only: auto-discovered; shared (pull-only)",
        "            fields: id, sku, name, price",
    ]


def test_show_models_default_compares_settings_with_the_saved_configuration():
    DiscoveryConfig.objects.create(exclude_models=["shop.Order"], shared_models=[])

    out, _ = run("show_models", "--action", "default")

    lines = out.splitlines()
    assert lines[0] == "4 models enabled by settings alone (the defaults for push and pull):"
    assert [line.split()[1] for line in lines[1:5]] == [
        "shop.Customer",
        "shop.Order",
        "shop.Product",
        "shop.Report",
    ]
    assert lines[5:] == [
        "The web UI's saved configuration overrides settings:",
        "  enabled only by it:  (none)",
        "  disabled by it:      shop.Order, shop.Product",
    ]


def test_show_models_default_without_a_saved_configuration_says_so():
    out, _ = run("show_models", "--action", "default")

    assert out.splitlines()[-1] == "No saved configuration overrides settings: these are the enabled models."


def test_show_models_details_gives_pk_tenancy_and_fields():
    out, _ = run("show_models", "--action", "details", "--app-label", "shop")

    customer = out.split("\n\n")[0].splitlines()
    assert customer[:4] == [
        "shop.Customer (customer, table shop_customer)",
        "  primary key: id (UUIDField)",
        "  tenancy:     tenant field organization",
        "  fields:",
    ]
    assert "    assigned_manager        ForeignKey                  -> auth.User" in customer
    assert (
        "shop.Product (product, table shop_product)\n  primary key: id (BigAutoField)\n  tenancy:     shared, pull-only\n"
        in out
    )


def test_show_models_details_verbose_adds_field_attributes_and_row_counts():
    make_customer()
    make_customer()

    out, _ = run("show_models", "--action", "details", "--verbose")

    customer = out.split("\n\n")[0].splitlines()
    assert customer[3:5] == ["  enabled:     auto-discovered", "  rows:        2"]
    assert (
        "    organization            ForeignKey                  -> sbsync.Organization, required, read-only"
        in customer
    )
    assert (
        "    department              CharField                   optional, max 20, choices: SALES, SUPPORT, ENGINEERING, MARKETING, FINANCE"
        in customer
    )


def test_show_models_app_label_of_a_django_app_explains_it_never_syncs():
    out, _ = run("show_models", "--action", "all", "--app-label", "auth")

    assert (
        out
        == "App 'auth' has no candidate models: Django's own apps, sbsync and its dependencies never sync.\n"
    )


def test_show_models_refuses_an_unknown_app_label():
    with pytest.raises(CommandError, match=r"No installed app has the label 'nope'\. Installed: .*shop"):
        run("show_models", "--action", "enabled", "--app-label", "nope")


def test_show_models_names_sbsyncs_app_label_for_sb_syncs():
    with pytest.raises(
        CommandError, match=r"'sb_sync'\. sb-sync's app label 'sb_sync' is 'sbsync' here\. Installed"
    ):
        run("show_models", "--action", "enabled", "--app-label", "sb_sync")


def test_show_models_refuses_an_unknown_action():
    with pytest.raises(CommandError, match="argument --action: invalid choice: 'everything'"):
        run("show_models", "--action", "everything")
