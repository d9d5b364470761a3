"""sb-sync's permission files (group → model → flags), as its ``dynamic_permissions`` generate/export wrote
them and its ``apply`` and ``setup_organizations --action set_permissions`` read them: accepted,
converted, with what does not map reported; and written back with ``export --format sb-sync``."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Group
from django.core.management.base import CommandError

from sbsync.models import DataFilter, ModelPermission, Organization
from sbsync.roles import DEFAULT_GROUPS
from tests.factories import make_filter, make_group, make_organization, make_permission
from tests.management.helpers import permission, run, snapshot, write_document

FLAGS = ("can_push", "can_pull", "can_create", "can_update", "can_delete", "can_read")
# The templates of sb-sync's ModelIntrospector.get_model_permission_templates(), which its generate
# copied into every group → model entry.
READ_WRITE = dict(zip(FLAGS, (True, True, True, True, False, True), strict=True))
READ_ONLY = dict(zip(FLAGS, (False, True, False, False, False, True), strict=True))


@pytest.fixture
def acme(db):
    for name in DEFAULT_GROUPS:
        make_group(name)
    make_organization(name="Global Retail", slug="global-retail")
    return make_organization(name="Acme Corporation", slug="acme-corp")


def group(name):
    return Group.objects.get(name=name)


def rows(organization):
    return sorted(
        (p.group.name, p.model_label, *(getattr(p, f) for f in FLAGS))
        for p in ModelPermission.objects.filter(organization=organization).select_related("group")
    )


def test_apply_reads_an_sb_sync_file_and_says_it_converted_it(acme, tmp_path):
    # As sb-sync's generate wrote it for --permission-template read_write (myapp is shop here).
    path = write_document(
        tmp_path / "permissions.json",
        {
            "Managers": {"shop.Customer": READ_WRITE, "shop.Order": READ_WRITE},
            "Read Only": {"shop.Customer": READ_ONLY},
        },
    )

    out, err = run(
        "dynamic_permissions", "--action", "apply", "--org-slug", "acme-corp", "--config-file", str(path)
    )

    assert rows(acme) == [
        ("Managers", "shop.Customer", True, True, True, True, False, True),
        ("Managers", "shop.Order", True, True, True, True, False, True),
        ("Read Only", "shop.Customer", False, True, False, False, False, True),
    ]
    assert "read sb-sync's permission format (group → model → flags) and converted it" in err
    assert "pass --replace for that" in err
    assert "Applied" in out and "3 created" in out


def test_set_permissions_reads_an_sb_sync_file_and_reports_what_does_not_map(acme, tmp_path):
    # sb-sync's set_permissions passed each entry to ModelPermission(**entry), so its files could carry
    # the model's 'filters' JSON, which sb-sync never enforced; flags it omits were false.
    path = write_document(
        tmp_path / "permissions.json",
        {
            "Sales": {
                "shop.Customer": {
                    "can_pull": True,
                    "can_read": True,
                    "filters": {"assigned_to": "{{user.id}}"},
                },
                "shop.Report": {"can_pull": True, "priority": 3},
            }
        },
    )

    _, err = run(
        "setup_organizations",
        "--action",
        "set_permissions",
        "--org-slug",
        "acme-corp",
        "--config-file",
        str(path),
    )

    assert rows(acme) == [
        ("Sales", "shop.Customer", False, True, False, False, False, True),
        ("Sales", "shop.Report", False, True, False, False, False, False),
    ]
    assert "Sales → shop.Customer: 'filters' {'assigned_to': '{{user.id}}'} is not converted" in err
    assert "Sales → shop.Report: left out keys with no meaning here: 'priority'." in err
    assert not DataFilter.objects.exists()


def test_an_sb_sync_file_with_replace_becomes_the_whole_configuration_as_sb_sync_applied_it(acme, tmp_path):
    make_permission(
        organization=acme, group=group("Support"), model_label="shop.Order", actions=["push", "pull"]
    )
    path = write_document(tmp_path / "p.json", {"Managers": {"shop.Customer": READ_WRITE}})

    run(
        "dynamic_permissions",
        "--action",
        "apply",
        "--org-slug",
        "acme-corp",
        "--replace",
        "--config-file",
        str(path),
    )

    assert rows(acme) == [("Managers", "shop.Customer", True, True, True, True, False, True)]


def test_an_invalid_sb_sync_file_writes_nothing_and_names_every_problem(acme, tmp_path):
    path = write_document(
        tmp_path / "p.json",
        {
            "Wizards": {"shop.Customer": READ_WRITE},
            "Managers": {"sb_sync.Organization": READ_WRITE, "shop.Order": {**READ_WRITE, "can_push": "yes"}},
        },
    )
    before = snapshot()

    with pytest.raises(CommandError) as raised:
        run("dynamic_permissions", "--action", "apply", "--org-slug", "acme-corp", "--config-file", str(path))

    message = str(raised.value)
    assert message.startswith(f"{path} is not a valid sb-sync permission file:")
    assert "permissions[0].group: there is no group named 'Wizards'." in message
    assert "'sb_sync.Organization' is not an installed model" in message
    assert "use sbsync.Organization" in message
    assert "permissions[2].can_push: must be true or false, not 'yes'." in message
    assert snapshot() == before


def test_validate_accepts_an_sb_sync_file(acme, tmp_path):
    path = write_document(tmp_path / "p.json", {"Analysts": {"shop.Report": READ_ONLY}})

    out, err = run("dynamic_permissions", "--action", "validate", "--config-file", str(path))

    assert out == f"{path} is valid: 1 permissions, 0 filters.\n"
    assert "sb-sync's permission format" in err


def test_export_in_sb_sync_format_round_trips_and_names_the_filters_it_cannot_hold(acme, tmp_path):
    make_permission(
        organization=acme,
        group=group("Managers"),
        actions=["push", "pull", "create", "update", "read"],
    )
    make_permission(organization=acme, group=group("Sales"), actions=["pull", "read"])
    make_filter(organization=acme, group=group("Sales"), name="Own customers")
    path = tmp_path / "current_permissions.json"

    out, err = run(
        "dynamic_permissions",
        "--action",
        "export",
        "--org-slug",
        "acme-corp",
        "--format",
        "sb-sync",
        "--output-file",
        str(path),
    )

    assert json.loads(path.read_text()) == {
        "Managers": {"shop.Customer": READ_WRITE},
        "Sales": {"shop.Customer": READ_ONLY},
    }
    assert out == f"Wrote the permissions of acme-corp: 2 permissions in sb-sync's format to {path}.\n"
    assert "left out the filter 'Own customers' of Sales on shop.Customer" in err
    # The file applies to another organization as sb-sync's apply would have.
    other = Organization.objects.get(slug="global-retail")
    run("dynamic_permissions", "--action", "apply", "--org-slug", "global-retail", "--config-file", str(path))
    assert rows(other) == rows(acme)


def test_generate_for_every_group_keeps_each_seed_group_within_its_role(acme):
    out, _ = run(
        "dynamic_permissions",
        "--action",
        "generate",
        "--permission-template",
        "read_write",
        "--app-label",
        "shop",
    )

    entries = {(p["group"], p["model"]): p for p in json.loads(out)["permissions"]}
    assert entries[("Read Only", "shop.Customer")] == permission("Read Only", "shop.Customer", "pull", "read")
    assert entries[("Analysts", "shop.Order")] == permission("Analysts", "shop.Order", "pull", "read")
    assert entries[("Managers", "shop.Order")] == permission(
        "Managers", "shop.Order", "push", "pull", "create", "update", "read"
    )
    assert entries[("Administrators", "shop.Order")] == entries[("Managers", "shop.Order")] | {
        "group": "Administrators"
    }


def test_generate_for_one_named_group_applies_the_template_as_it_is(acme):
    out, _ = run(
        "dynamic_permissions",
        "--action",
        "generate",
        "--permission-template",
        "read_write",
        "--group-name",
        "Read Only",
        "--app-label",
        "shop",
    )

    entries = {p["model"]: p for p in json.loads(out)["permissions"]}
    assert entries["shop.Customer"] == permission(
        "Read Only", "shop.Customer", "push", "pull", "create", "update", "read"
    )
