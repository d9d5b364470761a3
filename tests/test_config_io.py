from __future__ import annotations

import copy
import json

import pytest
from django.contrib.auth.models import Group
from django.test import override_settings

from sbsync.config_io import (
    ConfigError,
    effective_settings,
    export_config,
    import_config,
    reset_config,
    summary,
    validate_current,
    validate_document,
)
from sbsync.models import DataFilter, DiscoveryConfig, Membership, ModelPermission, Organization
from tests.factories import make_filter, make_permission

EMPTY = {"sbsync_config": 1, "discovery": None, "permissions": [], "data_filters": []}


@pytest.fixture
def configured(trio):
    DiscoveryConfig(exclude_models=["shop.Report"], shared_models=["shop.Product"]).save()
    make_permission(
        organization=trio.acme, group=trio.members, model_label="shop.Customer", actions=["pull", "read"]
    )
    make_filter(organization=trio.acme, group=trio.members, name="Mine")
    make_filter(
        organization=trio.acme,
        group=trio.members,
        name="Front office",
        condition={"field": "department", "operator": "in", "value": ["SALES", "SUPPORT"]},
        is_active=False,
    )
    return trio


def test_export_config_describes_discovery_permissions_and_filters(configured):
    document = export_config()

    assert document["discovery"] == {
        "auto_discover_models": True,
        "include_apps": [],
        "exclude_models": ["shop.Report"],
        "include_models": [],
        "shared_models": ["shop.Product"],
    }
    assert document["permissions"][0] == {
        "organization": "acme",
        "group": "Members",
        "model": "shop.Customer",
        "actions": ["pull", "read"],
    }
    assert len(document["permissions"]) == 9
    assert document["data_filters"] == [
        {
            "organization": "acme",
            "group": "Members",
            "model": "shop.Customer",
            "name": "Front office",
            "condition": {"field": "department", "operator": "in", "value": ["SALES", "SUPPORT"]},
            "is_active": False,
        },
        {
            "organization": "acme",
            "group": "Members",
            "model": "shop.Customer",
            "name": "Mine",
            "condition": {"field": "assigned_manager", "operator": "exact", "value": "$user"},
            "is_active": True,
        },
    ]


def test_export_reset_import_round_trips_the_configuration_exactly(configured):
    exported = json.loads(json.dumps(export_config()))

    reset_config()
    emptied = export_config()
    result = import_config(exported)

    assert emptied == EMPTY
    assert (result.created, result.updated, result.deleted) == (12, 0, 0)
    assert export_config() == exported


def test_reset_config_keeps_organizations_memberships_and_groups(configured):
    counts = reset_config()

    assert counts == {"discovery": 1, "permissions": 9, "data_filters": 2}
    assert export_config() == EMPTY
    assert (Organization.objects.count(), Membership.objects.count(), Group.objects.count()) == (2, 3, 2)
    assert ModelPermission.history.filter(history_type="-").count() == 9


def test_import_config_changes_only_what_differs(configured):
    document = export_config()
    document["permissions"][0]["actions"] = ["push", "pull", "read"]
    del document["permissions"][1]
    document["data_filters"][0]["is_active"] = True
    history_before = ModelPermission.history.count() + DataFilter.history.count()

    result = import_config(document)

    assert (result.created, result.updated, result.deleted) == (0, 2, 1)
    assert export_config() == document
    assert ModelPermission.history.count() + DataFilter.history.count() == history_before + 3


def test_import_config_creates_missing_groups_and_removes_the_discovery_row(configured):
    document = export_config()
    document["discovery"] = None
    document["permissions"].append(
        {"organization": "globex", "group": "Auditors", "model": "shop.Order", "actions": ["read"]}
    )

    import_config(document)

    assert DiscoveryConfig.objects.count() == 0
    assert ModelPermission.objects.get(group__name="Auditors").flags()["read"] is True
    assert export_config() == {
        **document,
        "permissions": sorted(
            document["permissions"], key=lambda p: (p["organization"], p["group"], p["model"])
        ),
    }


def test_import_config_with_one_bad_entry_writes_nothing(configured):
    before = export_config()
    document = copy.deepcopy(before)
    document["permissions"] = document["permissions"][:1]
    document["discovery"]["exclude_models"] = []
    document["data_filters"][1]["condition"] = {"field": "salary", "operator": "exact", "value": 1}

    with pytest.raises(ConfigError) as excinfo:
        import_config(document)

    assert excinfo.value.errors == ["data_filters[1].condition: field: shop.Customer has no field 'salary'."]
    assert export_config() == before


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        (lambda d: [], ["document: must be an object."]),
        (
            lambda d: {**d, "sbsync_config": 2},
            ["document.sbsync_config: version 2 is not supported (expected 1)."],
        ),
        (lambda d: {k: v for k, v in d.items() if k != "permissions"}, ["document: missing permissions."]),
        (lambda d: {**d, "extra": 1}, ["document: unknown key(s) extra."]),
        (lambda d: {**d, "permissions": {}}, ["permissions: must be a list."]),
        (lambda d: {**d, "data_filters": None}, ["data_filters: must be a list."]),
        (
            lambda d: {
                **d,
                "discovery": {**d["discovery"], "auto_discover_models": "yes", "include_apps": ["nope"]},
            },
            [
                "discovery.auto_discover_models: must be true or false.",
                "discovery.include_apps: 'nope' is not an installed app label.",
            ],
        ),
        (
            lambda d: {**d, "discovery": {**d["discovery"], "shared_models": ["Product"]}},
            ["discovery.shared_models: must be a list of model labels like 'shop.Customer'."],
        ),
        (
            lambda d: {**d, "discovery": {"auto_discover_models": True}},
            ["discovery: missing exclude_models, include_apps, include_models, shared_models."],
        ),
        (
            lambda d: {
                **d,
                "permissions": [
                    {"organization": "initech", "group": "", "model": "shop.Nope", "actions": ["fly"]}
                ],
            },
            [
                "permissions[0].organization: no organization with slug 'initech'.",
                "permissions[0].group: must be a non-empty text of at most 150 characters.",
                "permissions[0].model: 'shop.Nope' is not an installed model (use app_label.ModelName).",
                "permissions[0].actions: must be a list of push, pull, create, update, delete, read.",
            ],
        ),
        (
            lambda d: {
                **d,
                "permissions": [{"organization": ["acme"], "group": 7, "model": {}, "actions": "push"}],
            },
            [
                "permissions[0].organization: no organization with slug ['acme'].",
                "permissions[0].group: must be a non-empty text of at most 150 characters.",
                "permissions[0].model: {} is not an installed model (use app_label.ModelName).",
                "permissions[0].actions: must be a list of push, pull, create, update, delete, read.",
            ],
        ),
        (
            lambda d: {**d, "sbsync_config": True},
            ["document.sbsync_config: version True is not supported (expected 1)."],
        ),
        (
            lambda d: {**d, "permissions": d["permissions"][:1] * 2},
            ["permissions[1]: a second entry for shop.Customer of group 'Members' in 'acme'."],
        ),
        (
            lambda d: {**d, "permissions": [{"organization": "acme"}]},
            ["permissions[0]: missing actions, group, model."],
        ),
        (
            lambda d: {**d, "data_filters": [{**d["data_filters"][0], "is_active": "no", "name": "x" * 101}]},
            [
                "data_filters[0].name: must be a non-empty text of at most 100 characters.",
                "data_filters[0].is_active: must be true or false.",
            ],
        ),
        (
            lambda d: {
                **d,
                "data_filters": [
                    {**d["data_filters"][0], "condition": {"field": "name", "operator": "like", "value": "a"}}
                ],
            },
            [
                "data_filters[0].condition: operator: Choose one of: exact, ne, iexact, contains, icontains, startswith, endswith, in, gt, gte, lt, lte, isnull."
            ],
        ),
    ],
)
def test_validate_document_names_each_problem(configured, change, errors):
    document = change(export_config())

    assert validate_document(document) == errors


def test_validate_current_accepts_a_sound_configuration(configured):
    assert validate_current() == ([], [])


def test_validate_current_reports_bad_rows_and_bad_settings(configured):
    # Rows written around the forms' validation (shell, raw data migration) are what validate is for.
    DataFilter.objects.filter(name="Mine").update(
        condition={"field": "salary", "operator": "exact", "value": 1}
    )
    ModelPermission.objects.filter(group=configured.members).update(model_label="shop.Gone")

    with override_settings(SBSYNC={"MAX_PUSH_RECORDS": 0, "EXCLUDE_MODELS": ["shop.Gone"]}):
        errors, warnings = validate_current()

    assert errors == [
        "sbsync.E009: SBSYNC['MAX_PUSH_RECORDS'] must be a positive integer.",
        "permissions[0].model: 'shop.Gone' is not an installed model (use app_label.ModelName).",
        "data_filters[1].condition: field: shop.Customer has no field 'salary'.",
    ]
    assert warnings == [
        "sbsync.W001: SBSYNC['EXCLUDE_MODELS'] names 'shop.Gone', which is not an installed model."
    ]


def test_summary_counts_the_configuration(configured):
    assert summary() == {
        "discovery_source": "database",
        "enabled_models": 3,
        "candidate_models": 4,
        "organizations": 2,
        "active_organizations": 2,
        "permissions": 9,
        "groups_with_permissions": 2,
        "data_filters": 2,
        "active_data_filters": 1,
        "settings_changed": ["LOG_DIR", "SHARED_MODELS"],
    }


def test_effective_settings_give_durations_in_seconds():
    with override_settings(SBSYNC={"IDEMPOTENCY_TTL": 600}):
        values = effective_settings()

    assert (values["TOKEN_TTL"], values["IDEMPOTENCY_TTL"], values["MAX_PUSH_RECORDS"]) == (
        604800.0,
        600,
        1000,
    )
