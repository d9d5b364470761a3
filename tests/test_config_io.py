from __future__ import annotations

import copy
import json

import pytest
from django.contrib.auth.models import Group
from django.test import override_settings

from sbsync.config_io import (
    FORMAT,
    ConfigError,
    effective_settings,
    export_config,
    import_config,
    reset_config,
    summary,
    validate_current,
)
from sbsync.models import (
    ConfigGeneration,
    DataFilter,
    DiscoveryConfig,
    Membership,
    ModelPermission,
    Organization,
)
from tests.factories import make_filter, make_group, make_organization, make_permission

EMPTY = {"format": FORMAT, "discovery": None, "organizations": {}}
ALL = {f"can_{action}": True for action in ("push", "pull", "create", "update", "delete", "read")}
SHARED_WARNING = (
    "organizations.{slug}.permissions[{index}]: shop.Product is shared, so only its pull and read flags "
    "take effect (shared models are pull-only)."
)


def current() -> dict:
    document, left_out = export_config()
    assert left_out == []
    return document


def owners_on(*labels: str) -> list[dict]:
    return [{"group": "Owners", "model": label, **ALL} for label in labels]


@pytest.fixture
def configured(trio):
    DiscoveryConfig(exclude_models=["shop.Nothing"], shared_models=["shop.Product"]).save()
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


def test_export_config_gives_discovery_and_each_organizations_permissions_and_filters(configured):
    document, left_out = export_config()

    assert left_out == []
    assert document == {
        "format": "sbsync.config/1",
        "discovery": {
            "auto_discover_models": True,
            "include_apps": [],
            "exclude_models": ["shop.Nothing"],
            "include_models": [],
            "shared_models": ["shop.Product"],
        },
        "organizations": {
            "acme": {
                "permissions": [
                    {
                        "group": "Members",
                        "model": "shop.Customer",
                        "can_push": False,
                        "can_pull": True,
                        "can_create": False,
                        "can_update": False,
                        "can_delete": False,
                        "can_read": True,
                    },
                    *owners_on("shop.Customer", "shop.Order", "shop.Product", "shop.Report"),
                ],
                "filters": [
                    {
                        "group": "Members",
                        "model": "shop.Customer",
                        "name": "Front office",
                        "condition": {"field": "department", "operator": "in", "value": ["SALES", "SUPPORT"]},
                        "is_active": False,
                    },
                    {
                        "group": "Members",
                        "model": "shop.Customer",
                        "name": "Mine",
                        "condition": {"field": "assigned_manager", "operator": "exact", "value": "$user"},
                        "is_active": True,
                    },
                ],
            },
            "globex": {
                "permissions": owners_on("shop.Customer", "shop.Order", "shop.Product", "shop.Report"),
                "filters": [],
            },
        },
    }


def test_export_config_leaves_out_rows_of_models_that_are_not_enabled(configured):
    DiscoveryConfig(exclude_models=["shop.Report"], shared_models=["shop.Product"]).save()

    document, left_out = export_config()

    assert [p["model"] for p in document["organizations"]["globex"]["permissions"]] == [
        "shop.Customer",
        "shop.Order",
        "shop.Product",
    ]
    assert left_out == [
        f"organizations.{slug}: the permission of Owners on shop.Report names a model that is not enabled "
        "for sync; exports leave it out."
        for slug in ("acme", "globex")
    ]


def test_export_reset_import_round_trips_the_configuration_exactly(configured):
    exported = json.loads(json.dumps(current()))

    reset_config()
    emptied = current()
    result = import_config(exported)

    assert emptied == EMPTY
    assert result.counts == {
        "discovery": {"created": 1, "updated": 0, "unchanged": 0, "deleted": 0},
        "permissions": {"created": 9, "updated": 0, "unchanged": 0, "deleted": 0},
        "filters": {"created": 2, "updated": 0, "unchanged": 0, "deleted": 0},
    }
    assert result.warnings == [
        SHARED_WARNING.format(slug="acme", index=3),
        SHARED_WARNING.format(slug="globex", index=2),
    ]
    assert current() == exported


def test_import_config_into_a_fresh_database_creates_the_groups(db):
    acme = make_organization(slug="acme")
    make_permission(organization=acme, group=make_group("Sales"), actions=["pull"])
    make_filter(organization=acme, group=make_group("Auditors"), name="Mine")
    exported = current()
    reset_config()
    Group.objects.all().delete()

    import_config(exported)

    assert sorted(Group.objects.values_list("name", flat=True)) == ["Auditors", "Sales"]
    assert current() == exported


def test_reset_config_keeps_organizations_memberships_and_groups(configured):
    result = reset_config()

    assert {kind: counts["deleted"] for kind, counts in result.counts.items()} == {
        "discovery": 1,
        "permissions": 9,
        "filters": 2,
    }
    assert current() == EMPTY
    assert (Organization.objects.count(), Membership.objects.count(), Group.objects.count()) == (2, 3, 2)
    assert (
        list(ModelPermission.history.filter(history_type="-").values_list("history_change_reason", flat=True))
        == ["manage_config reset"] * 9
    )


def test_reset_config_dry_run_counts_and_deletes_nothing(configured):
    before = current()
    generation = ConfigGeneration.current()

    result = reset_config(dry_run=True)

    assert {kind: counts["deleted"] for kind, counts in result.counts.items()} == {
        "discovery": 1,
        "permissions": 9,
        "filters": 2,
    }
    assert current() == before
    assert ConfigGeneration.current() == generation


def test_import_config_changes_only_what_differs(configured):
    document = current()
    acme = document["organizations"]["acme"]
    acme["permissions"][0]["can_push"] = True
    del acme["permissions"][1]
    acme["filters"][0]["is_active"] = True
    history_before = ModelPermission.history.count() + DataFilter.history.count()

    result = import_config(document)

    assert (result.total("created"), result.total("updated"), result.total("deleted")) == (0, 2, 1)
    assert result.total("unchanged") == 9
    assert current() == document
    assert ModelPermission.history.count() + DataFilter.history.count() == history_before + 3
    assert set(
        ModelPermission.history.filter(history_type__in=["~", "-"]).values_list(
            "history_change_reason", flat=True
        )
    ) == {"manage_config import"}


def test_import_config_of_the_same_document_writes_nothing(configured):
    document = current()
    generation = ConfigGeneration.current()
    history_before = (
        ModelPermission.history.count() + DataFilter.history.count() + DiscoveryConfig.history.count()
    )

    result = import_config(document)

    assert result.total("unchanged") == 12
    assert ConfigGeneration.current() == generation
    assert (
        ModelPermission.history.count() + DataFilter.history.count() + DiscoveryConfig.history.count()
        == history_before
    )


def test_import_config_bumps_the_configuration_generation(configured):
    document = current()
    document["organizations"]["globex"]["permissions"][0]["can_delete"] = False
    generation = ConfigGeneration.current()

    import_config(document)

    assert ConfigGeneration.current() != generation
    assert (
        ModelPermission.objects.get(organization=configured.globex, model_label="shop.Customer").flags()[
            "delete"
        ]
        is False
    )


def test_import_config_creates_missing_groups_and_removes_the_discovery_row(configured):
    document = current()
    document["discovery"] = None
    document["organizations"]["globex"]["permissions"].append(
        {"group": "Auditors", "model": "shop.Order", "can_read": True}
    )

    import_config(document)

    assert DiscoveryConfig.objects.count() == 0
    assert ModelPermission.objects.get(group__name="Auditors").flags() == {
        "push": False,
        "pull": False,
        "create": False,
        "update": False,
        "delete": False,
        "read": True,
    }
    assert current()["organizations"]["globex"]["permissions"][0]["group"] == "Auditors"


def test_import_config_empties_the_organizations_it_does_not_name(configured):
    document = current()
    del document["organizations"]["acme"]

    result = import_config(document)

    assert (result.counts["permissions"]["deleted"], result.counts["filters"]["deleted"]) == (5, 2)
    assert list(current()["organizations"]) == ["globex"]


def test_import_config_checks_models_against_the_documents_discovery(configured):
    ModelPermission.objects.filter(model_label="shop.Report").delete()
    document = current()
    DiscoveryConfig(exclude_models=["shop.Report"], shared_models=["shop.Product"]).save()
    document["organizations"]["globex"]["permissions"].extend(owners_on("shop.Report"))

    import_config(document)

    assert current() == document
    assert DiscoveryConfig.objects.get().exclude_models == ["shop.Nothing"]


def test_import_config_refuses_models_the_documents_discovery_disables(configured):
    before = current()
    document = copy.deepcopy(before)
    document["discovery"]["exclude_models"] = ["shop.Report"]

    with pytest.raises(ConfigError) as excinfo:
        import_config(document)

    assert excinfo.value.errors == [
        "organizations.acme.permissions[4].model: 'shop.Report' is installed but not enabled for sync.",
        "organizations.globex.permissions[3].model: 'shop.Report' is installed but not enabled for sync.",
    ]
    assert current() == before


def test_import_config_with_one_bad_entry_writes_nothing(configured):
    before = current()
    document = copy.deepcopy(before)
    document["organizations"]["acme"]["permissions"] = [{"group": "Auditors", "model": "shop.Order"}]
    document["organizations"]["globex"]["filters"] = [{"group": "Auditors", "model": "shop.Order"}]
    document["discovery"]["exclude_models"] = []
    document["organizations"]["acme"]["filters"][1]["condition"] = {
        "field": "salary",
        "operator": "exact",
        "value": 1,
    }

    with pytest.raises(ConfigError) as excinfo:
        import_config(document)

    assert excinfo.value.errors == [
        "organizations.acme.filters[1].condition.field: shop.Customer has no field 'salary'.",
        "organizations.globex.filters[0].name: give a name of 1 to 100 characters.",
        "organizations.globex.filters[0].condition: A condition is an object with field, operator and value.",
    ]
    assert current() == before
    assert not Group.objects.filter(name="Auditors").exists()


def _part(**changes):
    return lambda d: {**d, "organizations": {**d["organizations"], "acme": {"permissions": [], **changes}}}


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        (lambda d: [], ["document: must be an object."]),
        (
            lambda d: {**d, "format": "sbsync.config/2"},
            ["document.format: 'sbsync.config/2' is not supported (expected 'sbsync.config/1')."],
        ),
        (
            lambda d: {"sbsync_config": 1, "discovery": None, "permissions": [], "data_filters": []},
            [
                "document: missing format, organizations.",
                "document: unknown key(s) data_filters, permissions, sbsync_config.",
            ],
        ),
        (
            lambda d: {k: v for k, v in d.items() if k != "organizations"},
            ["document: missing organizations."],
        ),
        (lambda d: {**d, "extra": 1}, ["document: unknown key(s) extra."]),
        (
            lambda d: {**d, "organizations": []},
            ["organizations: must be an object mapping organization slugs to their permissions."],
        ),
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
            lambda d: {**d, "organizations": {**d["organizations"], "initech": {"permissions": []}}},
            ["organizations.initech: no organization with slug 'initech'."],
        ),
        (
            lambda d: {**d, "organizations": {"acme": []}},
            ["organizations.acme: must be an object with 'permissions' and 'filters', not list."],
        ),
        (
            _part(data_filters=[]),
            ["organizations.acme: unknown keys 'data_filters' (allowed: filters, permissions)."],
        ),
        (
            lambda d: {**d, "organizations": {"acme": {"filters": None}}},
            [
                "organizations.acme: 'permissions' is missing: give a list (it may be empty).",
                "organizations.acme: 'filters' must be a list, not NoneType.",
            ],
        ),
        (
            _part(permissions=[{"group": "", "model": "shop.Nope", "can_fly": True, "can_push": "yes"}]),
            [
                "organizations.acme.permissions[0]: unknown keys 'can_fly' (allowed: can_create, can_delete, "
                "can_pull, can_push, can_read, can_update, group, model).",
                "organizations.acme.permissions[0].group: give a group name (text).",
                "organizations.acme.permissions[0].model: 'shop.Nope' is not an installed model (use "
                "app_label.ModelName).",
                "organizations.acme.permissions[0].can_push: must be true or false, not 'yes'.",
            ],
        ),
        (
            _part(permissions=[{"group": "x" * 151, "model": "auth.User"}, "Owners"]),
            [
                f"organizations.acme.permissions[0].group: there is no group named {'x' * 151!r}.",
                "organizations.acme.permissions[0].model: 'auth.User' is installed but not enabled for sync.",
                "organizations.acme.permissions[1]: must be an object with group, model and can_* flags.",
            ],
        ),
        (
            _part(permissions=[{"group": "Owners", "model": "shop.Order"}] * 2),
            [
                "organizations.acme.permissions[1]: repeats Owners on shop.Order (first in "
                "organizations.acme.permissions[0]).",
            ],
        ),
        (
            _part(
                filters=[
                    {
                        "group": "Members",
                        "model": "shop.Customer",
                        "name": "x" * 101,
                        "is_active": "no",
                        "condition": {"field": "name", "operator": "like", "value": "a"},
                    }
                ]
            ),
            [
                "organizations.acme.filters[0].name: give a name of 1 to 100 characters.",
                "organizations.acme.filters[0].is_active: must be true or false, not 'no'.",
                "organizations.acme.filters[0].condition.operator: Choose one of: exact, ne, iexact, contains, "
                "icontains, startswith, endswith, in, gt, gte, lt, lte, isnull.",
            ],
        ),
    ],
)
def test_import_config_names_each_problem_and_writes_nothing(configured, change, errors):
    before = current()
    groups_before = set(Group.objects.values_list("name", flat=True))

    with pytest.raises(ConfigError) as excinfo:
        import_config(change(copy.deepcopy(before)))

    assert excinfo.value.errors == errors
    assert current() == before
    assert set(Group.objects.values_list("name", flat=True)) == groups_before


def test_validate_current_accepts_a_sound_configuration(configured):
    assert validate_current() == (
        [],
        [SHARED_WARNING.format(slug="acme", index=3), SHARED_WARNING.format(slug="globex", index=2)],
    )


def test_validate_current_reports_bad_rows_and_bad_settings(configured):
    # Rows written around the forms' validation (shell, raw data migration) are what validate is for.
    DataFilter.objects.filter(name="Mine").update(
        condition={"field": "salary", "operator": "exact", "value": 1}
    )
    ModelPermission.objects.filter(group=configured.members).update(model_label="shop.Gone")
    ModelPermission.objects.filter(model_label="shop.Product").delete()

    with override_settings(SBSYNC={"MAX_PUSH_RECORDS": 0, "EXCLUDE_MODELS": ["shop.Gone"]}):
        errors, warnings = validate_current()

    assert errors == [
        "sbsync.E009: SBSYNC['MAX_PUSH_RECORDS'] must be a positive integer.",
        "organizations.acme: the permission of Members on shop.Gone names a model that is not enabled for "
        "sync; exports leave it out.",
        "organizations.acme.filters[1].condition.field: shop.Customer has no field 'salary'.",
    ]
    assert warnings == [
        "sbsync.W001: SBSYNC['EXCLUDE_MODELS'] names 'shop.Gone', which is not an installed model."
    ]


def test_validate_current_reports_filters_that_share_a_name(configured):
    DataFilter.objects.filter(name="Front office").update(name="Mine")

    errors, _ = validate_current()

    assert errors == [
        "organizations.acme.filters[1]: repeats filter 'Mine' of Members on shop.Customer (first in "
        "organizations.acme.filters[0]).",
    ]


def test_summary_counts_the_configuration(configured):
    assert summary() == {
        "discovery_source": "database",
        "enabled_models": 4,
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
