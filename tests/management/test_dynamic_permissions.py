from __future__ import annotations

import json
import re

import pytest
from django.contrib.auth.models import Group
from django.core.management.base import CommandError

from sbsync.access import access_for
from sbsync.models import ConfigGeneration, DataFilter, ModelPermission
from sbsync.roles import DEFAULT_GROUPS
from tests.factories import (
    make_filter,
    make_group,
    make_membership,
    make_organization,
    make_permission,
    make_user,
)
from tests.management.helpers import permission, run, snapshot, write_document

FORMAT = "sbsync.permissions/1"
SALES_FILTER = {"field": "assigned_manager", "operator": "exact", "value": "$user"}


@pytest.fixture
def orgs(db):
    for name in DEFAULT_GROUPS:
        make_group(name)
    return make_organization(name="Acme Corporation", slug="acme-corp"), make_organization(
        name="Global Retail", slug="global-retail"
    )


def group(name):
    return Group.objects.get(name=name)


def document(*permissions, filters=(), organization=None):
    data = {"format": FORMAT, "permissions": list(permissions), "filters": list(filters)}
    if organization:
        data["organization"] = organization
    return data


# discover


@pytest.mark.django_db
def test_discover_lists_the_models_a_document_may_name():
    out, _ = run("dynamic_permissions", "--action", "discover")

    assert out.splitlines() == [
        "4 models may appear in a permissions document:",
        "  shop.Customer                    per organization (field organization)",
        "  shop.Order                       per organization (field organization)",
        "  shop.Product                     shared: pull and read only",
        "  shop.Report                      per organization (field organization)",
    ]


@pytest.mark.django_db
def test_discover_of_an_app_without_enabled_models_says_why():
    out, _ = run("dynamic_permissions", "--action", "discover", "--app-label", "auth")

    assert out.splitlines() == [
        "0 models may appear in a permissions document:",
        "  (none: show_models --action all explains why)",
    ]


@pytest.mark.django_db
def test_discover_refuses_an_unknown_app_label():
    with pytest.raises(
        CommandError, match=r"^No installed app has the label 'nope'\. show_models --action summary lists"
    ):
        run("dynamic_permissions", "--action", "discover", "--app-label", "nope")


# generate


def test_generate_writes_the_template_for_every_group_and_model(orgs):
    out, _ = run(
        "dynamic_permissions",
        "--action",
        "generate",
        "--org-slug",
        "acme-corp",
        "--permission-template",
        "read_write",
    )

    data = json.loads(out)
    assert (data["format"], data["organization"], data["template"], data["filters"]) == (
        FORMAT,
        "acme-corp",
        "read_write",
        [],
    )
    assert len(data["permissions"]) == 7 * 4
    assert data["permissions"][0] == permission(
        "Administrators", "shop.Customer", "push", "pull", "create", "update", "read"
    )
    assert permission("Sales", "shop.Product", "pull", "read") in data["permissions"]


def test_generate_by_default_gives_each_group_its_role_template(orgs):
    out, _ = run(
        "dynamic_permissions", "--action", "generate", "--group-name", "Analysts", "--app-label", "shop"
    )

    data = json.loads(out)
    assert (data["organization"], data["template"]) == (None, "role_defaults")
    assert data["permissions"] == [
        permission("Analysts", m, "pull", "read")
        for m in ("shop.Customer", "shop.Order", "shop.Product", "shop.Report")
    ]


def test_generate_to_a_file_that_validate_and_apply_accept(orgs, tmp_path):
    path = tmp_path / "permissions.json"

    out, _ = run(
        "dynamic_permissions",
        "--action",
        "generate",
        "--org-slug",
        "acme-corp",
        "--permission-template",
        "read_only",
        "--output-file",
        str(path),
    )
    validated, _ = run("dynamic_permissions", "--action", "validate", "--config-file", str(path))
    run("dynamic_permissions", "--action", "apply", "--config-file", str(path))

    assert out == f"Wrote template read_only: 28 permissions and 0 filters to {path}.\n"
    assert validated == f"{path} is valid for acme-corp: 28 permissions, 0 filters.\n"
    assert (
        ModelPermission.objects.filter(
            organization=orgs[0], can_pull=True, can_read=True, can_push=False
        ).count()
        == 28
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--permission-template", "admin_everything"),
            r"Unknown --permission-template 'admin_everything'; choose one of: role_defaults, full_access",
        ),
        (("--org-slug", "nowhere"), r"There is no organization with slug 'nowhere'\."),
        (
            ("--group-name", "Wizards"),
            r"There is no group named 'Wizards' \(names are case-sensitive\)\. Create the seed's seven groups",
        ),
        (("--app-label", "auth"), r"No enabled models to generate permissions for"),
    ],
)
def test_generate_refuses_bad_arguments(orgs, tmp_path, args, message):
    path = tmp_path / "out.json"

    with pytest.raises(CommandError, match=message):
        run("dynamic_permissions", "--action", "generate", "--output-file", str(path), *args)

    assert not path.exists()


@pytest.mark.django_db
def test_generate_without_groups_says_how_to_create_them():
    with pytest.raises(
        CommandError,
        match="There are no groups yet: create the default ones with setup_organizations --action create_groups",
    ):
        run("dynamic_permissions", "--action", "generate")


def test_generate_into_a_missing_directory_fails_cleanly(orgs, tmp_path):
    path = tmp_path / "missing" / "out.json"

    with pytest.raises(
        CommandError, match=f"Cannot write {path}: directory '{tmp_path / 'missing'}' does not exist"
    ):
        run("dynamic_permissions", "--action", "generate", "--output-file", str(path))

    assert list(tmp_path.iterdir()) == []


# apply


def test_apply_merges_the_document_into_the_organization(orgs, tmp_path):
    acme, globex = orgs
    make_permission(organization=acme, group=group("Managers"), model_label="shop.Customer", actions=["pull"])
    make_permission(organization=acme, group=group("Managers"), model_label="shop.Order", actions=["pull"])
    make_permission(
        organization=globex, group=group("Managers"), model_label="shop.Customer", actions=["pull"]
    )
    path = write_document(
        tmp_path / "p.json",
        document(
            permission("Managers", "shop.customer", "push", "pull", "read"),
            permission("Sales", "shop.Customer", "pull", "read"),
            filters=[
                {
                    "group": "Sales",
                    "model": "shop.Customer",
                    "name": "Own customers",
                    "condition": SALES_FILTER,
                }
            ],
        ),
    )

    out, _ = run(
        "dynamic_permissions", "--action", "apply", "--org-slug", "acme-corp", "--config-file", str(path)
    )

    assert snapshot()["permissions"] == [
        ("acme-corp", "Managers", "shop.Customer", True, True, False, False, False, True),
        ("acme-corp", "Managers", "shop.Order", False, True, False, False, False, False),
        ("acme-corp", "Sales", "shop.Customer", False, True, False, False, False, True),
        ("global-retail", "Managers", "shop.Customer", False, True, False, False, False, False),
    ]
    assert list(
        DataFilter.objects.values_list(
            "organization__slug", "group__name", "model_label", "name", "condition", "is_active"
        )
    ) == [("acme-corp", "Sales", "shop.Customer", "Own customers", SALES_FILTER, True)]
    assert out.splitlines() == [
        "  updated permission of Managers on shop.Customer: push, pull, read (was pull)",
        "  created permission of Sales on shop.Customer: pull, read",
        "  created filter 'Own customers' of Sales on shop.Customer: assigned_manager exact '$user'",
        f"Applied {path} to acme-corp: permissions: 1 created, 1 updated, 0 unchanged, 0 deleted; "
        "filters: 1 created, 0 updated, 0 unchanged, 0 deleted.",
    ]


def test_apply_replace_deletes_what_the_document_does_not_name(orgs, tmp_path):
    acme, globex = orgs
    make_permission(organization=acme, group=group("Managers"), model_label="shop.Order")
    make_filter(organization=acme, group=group("Sales"), name="Old filter")
    make_permission(organization=globex, group=group("Managers"), model_label="shop.Order", actions=["pull"])
    path = write_document(tmp_path / "p.json", document(permission("Users", "shop.Report", "pull")))

    run(
        "dynamic_permissions",
        "--action",
        "apply",
        "--org-slug",
        "acme-corp",
        "--config-file",
        str(path),
        "--replace",
    )

    state = snapshot()
    assert state["permissions"] == [
        ("acme-corp", "Users", "shop.Report", False, True, False, False, False, False),
        ("global-retail", "Managers", "shop.Order", False, True, False, False, False, False),
    ]
    assert state["filters"] == []


def test_apply_dry_run_reports_and_writes_nothing(orgs, tmp_path):
    make_permission(organization=orgs[0], group=group("Managers"), model_label="shop.Order")
    path = write_document(tmp_path / "p.json", document(permission("Users", "shop.Report", "pull")))
    before = snapshot()

    out, _ = run(
        "dynamic_permissions",
        "--action",
        "apply",
        "--org-slug",
        "acme-corp",
        "--config-file",
        str(path),
        "--replace",
        "--dry-run",
    )

    assert snapshot() == before
    assert out.splitlines() == [
        "  would have created permission of Users on shop.Report: pull",
        "  would have deleted permission of Managers on shop.Order: push, pull, create, update, delete, read",
        "Dry run, nothing written: permissions: 1 created, 0 updated, 0 unchanged, 1 deleted; filters: 0 created, 0 updated, 0 unchanged, 0 deleted.",
    ]


def test_apply_changes_the_access_of_members_at_once(orgs, tmp_path):
    bob = make_user(username="bob")
    make_membership(user=bob, organization=orgs[0], group=group("Users"))
    assert access_for(bob, orgs[0]).can("shop.Report", "pull") is False
    generation = ConfigGeneration.current()
    path = write_document(tmp_path / "p.json", document(permission("Users", "shop.Report", "pull")))

    run("dynamic_permissions", "--action", "apply", "--org-slug", "acme-corp", "--config-file", str(path))

    assert ConfigGeneration.current() != generation
    assert access_for(bob, orgs[0]).can("shop.Report", "pull") is True


def test_apply_records_history_with_the_reason(orgs, tmp_path):
    path = write_document(tmp_path / "p.json", document(permission("Users", "shop.Report", "pull")))

    run("dynamic_permissions", "--action", "apply", "--org-slug", "acme-corp", "--config-file", str(path))

    row = ModelPermission.objects.get()
    assert list(row.history.values_list("history_type", "history_change_reason")) == [
        ("+", "dynamic_permissions apply")
    ]


def test_apply_twice_changes_nothing_the_second_time(orgs, tmp_path):
    path = write_document(
        tmp_path / "p.json", document(permission("Users", "shop.Report", "pull"), organization="acme-corp")
    )
    run("dynamic_permissions", "--action", "apply", "--config-file", str(path))
    before = snapshot()

    out, _ = run("dynamic_permissions", "--action", "apply", "--config-file", str(path))

    assert snapshot() == before
    assert out == (
        f"Applied {path} to acme-corp: permissions: 0 created, 0 updated, 1 unchanged, 0 deleted; "
        "filters: 0 created, 0 updated, 0 unchanged, 0 deleted.\n"
    )


def test_apply_org_slug_overrides_the_documents_organization(orgs, tmp_path):
    path = write_document(
        tmp_path / "p.json", document(permission("Users", "shop.Report", "pull"), organization="acme-corp")
    )

    out, _ = run(
        "dynamic_permissions", "--action", "apply", "--org-slug", "global-retail", "--config-file", str(path)
    )

    assert [p[0] for p in snapshot()["permissions"]] == ["global-retail"]
    assert out.splitlines()[0] == "The document was written for acme-corp; applying it to global-retail."


def test_apply_warns_that_shared_models_ignore_write_flags(orgs, tmp_path):
    path = write_document(tmp_path / "p.json", document(permission("Users", "shop.Product", "push", "pull")))

    _, err = run(
        "dynamic_permissions", "--action", "apply", "--org-slug", "acme-corp", "--config-file", str(path)
    )

    assert (
        err
        == "Warning: permissions[0]: shop.Product is shared, so only its pull and read flags take effect (shared models are pull-only).\n"
    )


BAD_DOCUMENTS = [
    pytest.param(
        "{not json",
        [r"is not valid JSON: Expecting property name enclosed in double quotes at line 1, column 2\."],
        id="malformed-json",
    ),
    pytest.param(
        [1, 2],
        [r"The document must be a JSON object with 'format' and 'permissions', not list\."],
        id="not-an-object",
    ),
    pytest.param(
        {"permissions": []}, [r"'format' must be 'sbsync.permissions/1'; it is missing\."], id="no-format"
    ),
    pytest.param(
        {"format": "sb-sync/0", "permissions": []},
        [r"'format' must be 'sbsync.permissions/1'; not 'sb-sync/0'\."],
        id="wrong-format",
    ),
    pytest.param(
        {"format": FORMAT},
        [r"'permissions' is missing: give a list \(it may be empty\)\."],
        id="no-permissions",
    ),
    pytest.param(
        {"format": FORMAT, "permissions": {}, "filters": 3},
        [r"'permissions' must be a list, not dict\.", r"'filters' must be a list, not int\."],
        id="not-lists",
    ),
    pytest.param(
        {"format": FORMAT, "permisions": [], "permissions": []},
        [r"Unknown top-level keys 'permisions'"],
        id="typo-key",
    ),
    pytest.param(
        document(permission("Wizards", "shop.Order", "pull")),
        [r"permissions\[0\]\.group: there is no group named 'Wizards'\."],
        id="unknown-group",
    ),
    pytest.param(
        document(permission("Users", "shop.Invoice", "pull")),
        [r"permissions\[0\]\.model: 'shop.Invoice' is not an installed model"],
        id="unknown-model",
    ),
    pytest.param(
        document(permission("Users", "auth.User", "pull")),
        [r"permissions\[0\]\.model: 'auth.User' is installed but not enabled for sync\."],
        id="not-enabled-model",
    ),
    pytest.param(
        document({"group": "Users", "model": "shop.Order", "can_pull": "yes"}),
        [r"permissions\[0\]\.can_pull: must be true or false, not 'yes'\."],
        id="bad-flag",
    ),
    pytest.param(
        document({"group": "Users", "model": "shop.Order", "can_fly": True}),
        [r"permissions\[0\]: unknown keys 'can_fly'"],
        id="unknown-flag",
    ),
    pytest.param(document("Users"), [r"permissions\[0\]: must be an object"], id="entry-not-object"),
    pytest.param(
        document(permission("Users", "shop.Order", "pull"), permission("Users", "shop.order", "push")),
        [r"permissions\[1\]: repeats Users on shop.Order \(first in permissions\[0\]\)\."],
        id="duplicate",
    ),
    pytest.param(
        document(
            filters=[
                {
                    "group": "Sales",
                    "model": "shop.Customer",
                    "name": "f",
                    "condition": {"field": "colour", "operator": "exact", "value": 1},
                }
            ]
        ),
        [r"filters\[0\]\.condition\.field: shop.Customer has no field 'colour'\."],
        id="filter-unknown-field",
    ),
    pytest.param(
        document(
            filters=[
                {
                    "group": "Sales",
                    "model": "shop.Customer",
                    "name": "f",
                    "condition": {"field": "age", "operator": "like", "value": 1},
                }
            ]
        ),
        [r"filters\[0\]\.condition\.operator: Choose one of: exact"],
        id="filter-bad-operator",
    ),
    pytest.param(
        document(
            filters=[
                {
                    "group": "Sales",
                    "model": "shop.Customer",
                    "name": "",
                    "condition": SALES_FILTER,
                    "is_active": "on",
                }
            ]
        ),
        [
            r"filters\[0\]\.name: give a name of 1 to 100 characters\.",
            r"filters\[0\]\.is_active: must be true or false, not 'on'\.",
        ],
        id="filter-bad-name-and-flag",
    ),
    pytest.param(
        document(
            filters=[
                {
                    "group": "Sales",
                    "model": "shop.Customer",
                    "name": "f",
                    "condition": "assigned_manager=$user",
                }
            ]
        ),
        [r"filters\[0\]\.condition: A condition is an object with field, operator and value\."],
        id="filter-condition-not-object",
    ),
]


@pytest.mark.parametrize(("content", "messages"), BAD_DOCUMENTS)
def test_apply_refuses_an_invalid_document_and_writes_nothing(orgs, tmp_path, content, messages):
    make_permission(organization=orgs[0], group=group("Managers"), model_label="shop.Order", actions=["pull"])
    path = write_document(tmp_path / "p.json", content)
    before = snapshot()

    with pytest.raises(CommandError) as caught:
        run("dynamic_permissions", "--action", "apply", "--org-slug", "acme-corp", "--config-file", str(path))

    for message in messages:
        assert re.search(message, str(caught.value)), str(caught.value)
    assert snapshot() == before


def test_apply_reports_every_problem_of_a_document_at_once(orgs, tmp_path):
    path = write_document(
        tmp_path / "p.json",
        document(permission("Wizards", "shop.Order", "pull"), permission("Users", "shop.Invoice", "pull")),
    )

    with pytest.raises(CommandError) as caught:
        run("dynamic_permissions", "--action", "apply", "--org-slug", "acme-corp", "--config-file", str(path))

    assert str(caught.value) == (
        f"{path} is not a valid permissions document:\n"
        "  - permissions[0].group: there is no group named 'Wizards'.\n"
        "  - permissions[1].model: 'shop.Invoice' is not an installed model (use app_label.ModelName)."
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), r"^--action apply needs --config-file\.$"),
        (("--config-file", "/nonexistent/p.json"), r"^/nonexistent/p\.json: no such file\.$"),
        (("--config-file", "{dir}"), r"is a directory, not a JSON file\.$"),
        (
            ("--config-file", "{doc}"),
            r"^Name the organization: pass --org-slug, or set 'organization' in the document\.$",
        ),
        (
            ("--config-file", "{doc}", "--org-slug", "nowhere"),
            r"^There is no organization with slug 'nowhere'\. Existing slugs: acme-corp, global-retail\. Create one with setup_organizations --action create_org",
        ),
    ],
)
def test_apply_refuses_bad_arguments(orgs, tmp_path, args, message):
    doc = write_document(tmp_path / "p.json", document(permission("Users", "shop.Report", "pull")))
    before = snapshot()

    with pytest.raises(CommandError, match=message):
        run("dynamic_permissions", "--action", "apply", *(a.format(dir=tmp_path, doc=doc) for a in args))

    assert snapshot() == before


# export


def test_export_writes_the_organizations_permissions_and_filters(orgs, tmp_path):
    acme, globex = orgs
    make_permission(
        organization=acme, group=group("Sales"), model_label="shop.Customer", actions=["pull", "read"]
    )
    make_filter(organization=acme, group=group("Sales"), name="Own customers", condition=SALES_FILTER)
    make_permission(organization=globex, group=group("Users"), model_label="shop.Order")
    path = tmp_path / "current.json"

    out, _ = run(
        "dynamic_permissions", "--action", "export", "--org-slug", "acme-corp", "--output-file", str(path)
    )

    data = json.loads(path.read_text())
    assert (data["format"], data["organization"]) == (FORMAT, "acme-corp")
    assert data["permissions"] == [permission("Sales", "shop.Customer", "pull", "read")]
    assert data["filters"] == [
        {
            "group": "Sales",
            "model": "shop.Customer",
            "name": "Own customers",
            "condition": SALES_FILTER,
            "is_active": True,
        }
    ]
    assert out == f"Wrote the permissions of acme-corp: 1 permissions and 1 filters to {path}.\n"


def test_export_then_apply_replace_copies_an_organization(orgs, tmp_path):
    acme, globex = orgs
    make_permission(
        organization=acme, group=group("Sales"), model_label="shop.Customer", actions=["pull", "read"]
    )
    make_permission(organization=acme, group=group("Administrators"), model_label="shop.Order")
    make_filter(
        organization=acme, group=group("Sales"), name="Own customers", condition=SALES_FILTER, is_active=False
    )
    make_permission(organization=globex, group=group("Users"), model_label="shop.Report")
    path = tmp_path / "acme.json"

    run("dynamic_permissions", "--action", "export", "--org-slug", "acme-corp", "--output-file", str(path))
    run(
        "dynamic_permissions",
        "--action",
        "apply",
        "--org-slug",
        "global-retail",
        "--config-file",
        str(path),
        "--replace",
    )

    state = snapshot()
    by_org = {
        slug: sorted(row[1:] for row in state["permissions"] if row[0] == slug)
        for slug in ("acme-corp", "global-retail")
    }
    assert by_org["global-retail"] == by_org["acme-corp"]
    assert sorted(f[1:] for f in state["filters"] if f[0] == "global-retail") == sorted(
        f[1:] for f in state["filters"] if f[0] == "acme-corp"
    )


def test_export_leaves_out_rows_of_models_no_longer_enabled(orgs, settings):
    make_permission(organization=orgs[0], group=group("Users"), model_label="shop.Report")
    make_permission(organization=orgs[0], group=group("Users"), model_label="shop.Order", actions=["pull"])
    settings.SBSYNC = {**settings.SBSYNC, "EXCLUDE_MODELS": ["shop.Report"]}

    out, err = run("dynamic_permissions", "--action", "export", "--org-slug", "acme-corp")

    assert json.loads(out)["permissions"] == [permission("Users", "shop.Order", "pull")]
    assert (
        err
        == "Warning: left out the permission of Users on shop.Report: the model is not enabled for sync.\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), r"^--action export needs --org-slug\.$"),
        (
            ("--org-slug", "nowhere"),
            r"^There is no organization with slug 'nowhere'\. Existing slugs: acme-corp, global-retail\. Create one with setup_organizations --action create_org",
        ),
    ],
)
def test_export_refuses_bad_arguments(orgs, args, message):
    with pytest.raises(CommandError, match=message):
        run("dynamic_permissions", "--action", "export", *args)


# validate


def test_validate_accepts_a_valid_document_and_writes_nothing(orgs, tmp_path):
    path = write_document(
        tmp_path / "p.json", document(permission("Users", "shop.Report", "pull"), organization="acme-corp")
    )
    before = snapshot()

    out, _ = run("dynamic_permissions", "--action", "validate", "--config-file", str(path))

    assert out == f"{path} is valid for acme-corp: 1 permissions, 0 filters.\n"
    assert snapshot() == before


def test_validate_reports_an_invalid_document(orgs, tmp_path):
    path = write_document(tmp_path / "p.json", document(permission("Users", "auth.Group", "pull")))

    with pytest.raises(CommandError) as caught:
        run("dynamic_permissions", "--action", "validate", "--config-file", str(path))

    assert str(caught.value) == (
        f"{path} is not a valid permissions document:\n  - permissions[0].model: 'auth.Group' is installed but not enabled for sync."
    )


def test_validate_refuses_a_document_for_an_unknown_organization(orgs, tmp_path):
    path = write_document(
        tmp_path / "p.json", document(permission("Users", "shop.Report", "pull"), organization="nowhere")
    )

    with pytest.raises(
        CommandError,
        match=r"^There is no organization with slug 'nowhere'\. Existing slugs: acme-corp, global-retail\. Create one with setup_organizations --action create_org",
    ):
        run("dynamic_permissions", "--action", "validate", "--config-file", str(path))


@pytest.mark.django_db
def test_validate_names_the_missing_flag():
    with pytest.raises(CommandError, match=r"^--action validate needs --config-file\.$"):
        run("dynamic_permissions", "--action", "validate")


# template


@pytest.mark.django_db
def test_template_lists_every_template_and_the_role_defaults():
    out, _ = run("dynamic_permissions", "--action", "template")

    lines = out.splitlines()
    assert [line.split()[0] for line in lines[1:7]] == [
        "full_access",
        "read_write",
        "read_only",
        "push_only",
        "none",
        "role_defaults",
    ]
    assert "    Analysts        read_only    pull data only (read-only access)" in lines


@pytest.mark.django_db
def test_dynamic_permissions_refuses_an_unknown_action():
    with pytest.raises(CommandError, match="argument --action: invalid choice: 'import'"):
        run("dynamic_permissions", "--action", "import")
