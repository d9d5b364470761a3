from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.core.management.base import CommandError

from sbsync.models import Membership, ModelPermission, Organization
from sbsync.roles import DEFAULT_GROUPS
from tests.factories import make_group, make_membership, make_organization, make_permission, make_user
from tests.management.helpers import permission, run, snapshot, write_document

ROOT = Path(__file__).resolve().parents[2]
FORMAT = "sbsync.permissions/1"
ADD_JOHN_AS_MANAGER = (
    "setup_organizations",
    "--action",
    "add_user",
    "--username",
    "john_manager",
    "--org-slug",
    "acme-corp",
    "--group-name",
    "Managers",
)


# create_org


@pytest.mark.django_db
def test_create_org_creates_the_organization():
    out, _ = run(
        "setup_organizations",
        "--action",
        "create_org",
        "--org-name",
        "Acme Corporation",
        "--org-slug",
        "acme-corp",
        "--description",
        "Widgets",
    )

    assert list(Organization.objects.values_list("name", "slug", "description")) == [
        ("Acme Corporation", "acme-corp", "Widgets")
    ]
    assert out == "Created organization Acme Corporation (acme-corp).\n"


@pytest.mark.django_db
def test_create_org_twice_leaves_the_organization_unchanged():
    run(
        "setup_organizations",
        "--action",
        "create_org",
        "--org-name",
        "Acme Corporation",
        "--org-slug",
        "acme-corp",
    )

    out, _ = run(
        "setup_organizations",
        "--action",
        "create_org",
        "--org-name",
        "Acme Corporation",
        "--org-slug",
        "acme-corp",
    )

    assert Organization.objects.count() == 1
    assert out == "Organization Acme Corporation (acme-corp) already exists; unchanged.\n"


@pytest.mark.django_db
def test_create_org_rejects_a_slug_taken_by_another_name():
    make_organization(name="Acme Corporation", slug="acme-corp")
    before = snapshot()

    with pytest.raises(
        CommandError, match="The slug 'acme-corp' already belongs to organization 'Acme Corporation'"
    ):
        run("setup_organizations", "--action", "create_org", "--org-name", "Other", "--org-slug", "acme-corp")

    assert snapshot() == before


@pytest.mark.django_db
def test_create_org_rejects_a_name_taken_under_another_slug():
    make_organization(name="Acme Corporation", slug="acme")
    before = snapshot()

    with pytest.raises(CommandError, match="named 'Acme Corporation' already exists, with slug 'acme'"):
        run(
            "setup_organizations",
            "--action",
            "create_org",
            "--org-name",
            "Acme Corporation",
            "--org-slug",
            "acme-corp",
        )

    assert snapshot() == before


@pytest.mark.django_db
def test_create_org_rejects_an_invalid_slug():
    with pytest.raises(CommandError, match="Invalid organization: slug: Enter a valid “slug”"):
        run(
            "setup_organizations", "--action", "create_org", "--org-name", "Acme", "--org-slug", "not a slug!"
        )

    assert Organization.objects.count() == 0


@pytest.mark.django_db
def test_create_org_names_the_missing_flags():
    with pytest.raises(CommandError, match=r"^--action create_org needs --org-name and --org-slug\.$"):
        run("setup_organizations", "--action", "create_org")

    assert Organization.objects.count() == 0


# create_groups


@pytest.mark.django_db
def test_create_groups_creates_the_seven_default_groups_once():
    make_group("Managers")

    first, _ = run("setup_organizations", "--action", "create_groups")
    second, _ = run("setup_organizations", "--action", "create_groups")

    assert sorted(Group.objects.values_list("name", flat=True)) == sorted(DEFAULT_GROUPS)
    assert first.splitlines()[-1] == "6 created, 1 already existed."
    assert second.splitlines()[-1] == "0 created, 7 already existed."


# add_user


@pytest.fixture
def acme(db):
    organization = make_organization(name="Acme Corporation", slug="acme-corp")
    for name in DEFAULT_GROUPS:
        make_group(name)
    return organization


def test_add_user_puts_an_existing_user_in_the_organization(acme):
    make_user(username="john_manager")

    out, _ = run(*ADD_JOHN_AS_MANAGER)

    assert list(
        Membership.objects.values_list("user__username", "organization__slug", "group__name", "is_active")
    ) == [("john_manager", "acme-corp", "Managers", True)]
    assert out == "Added john_manager to Acme Corporation (acme-corp) as Managers.\n"


def test_add_user_moves_a_member_to_the_new_group(acme):
    user = make_user(username="john_manager")
    make_membership(user=user, organization=acme, group=Group.objects.get(name="Users"))

    out, _ = run(*ADD_JOHN_AS_MANAGER)

    assert list(Membership.objects.values_list("group__name", flat=True)) == ["Managers"]
    assert out == "Moved john_manager in Acme Corporation (acme-corp) from Users to Managers.\n"


def test_add_user_reactivates_an_inactive_membership(acme):
    user = make_user(username="john_manager")
    make_membership(user=user, organization=acme, group=Group.objects.get(name="Managers"), is_active=False)

    out, _ = run(*ADD_JOHN_AS_MANAGER)

    assert list(Membership.objects.values_list("group__name", "is_active")) == [("Managers", True)]
    assert out == "Reactivated john_manager in Acme Corporation (acme-corp) as Managers.\n"


def test_add_user_twice_leaves_the_membership_unchanged(acme):
    make_user(username="john_manager")
    run(*ADD_JOHN_AS_MANAGER)

    out, _ = run(*ADD_JOHN_AS_MANAGER)

    assert Membership.objects.count() == 1
    assert out == "john_manager is already in Acme Corporation (acme-corp) as Managers; unchanged.\n"


def test_add_user_creates_a_missing_user_given_a_password(acme):
    out, _ = run(
        "setup_organizations",
        "--action",
        "add_user",
        "--username",
        "mary_sales",
        "--org-slug",
        "acme-corp",
        "--group-name",
        "Sales",
        "--password",
        "Sturdy-pass-42",
        "--email",
        "mary@example.test",
    )

    user = User.objects.get(username="mary_sales")
    assert (user.email, user.check_password("Sturdy-pass-42")) == ("mary@example.test", True)
    assert list(Membership.objects.values_list("user__username", "group__name")) == [("mary_sales", "Sales")]
    assert out.splitlines()[0] == "Created user mary_sales."


def test_add_user_never_changes_an_existing_users_password(acme):
    user = make_user(username="john_manager", password="original-pass-1")

    out, _ = run(*ADD_JOHN_AS_MANAGER, "--password", "Another-pass-42")

    user.refresh_from_db()
    assert user.check_password("original-pass-1")
    assert (
        out.splitlines()[0] == "User john_manager already exists; its password and email were left unchanged."
    )


def test_add_user_without_a_password_refuses_an_unknown_user(acme):
    before = snapshot()

    with pytest.raises(
        CommandError, match=r"There is no user named 'ghost'\. Create it first, or pass --password"
    ):
        run(
            "setup_organizations",
            "--action",
            "add_user",
            "--username",
            "ghost",
            "--org-slug",
            "acme-corp",
            "--group-name",
            "Managers",
        )

    assert snapshot() == before


def test_add_user_rejects_a_weak_password_and_creates_nothing(acme):
    before = snapshot()

    with pytest.raises(CommandError, match="Cannot create user 'mary_sales': .*too short"):
        run(
            "setup_organizations",
            "--action",
            "add_user",
            "--username",
            "mary_sales",
            "--org-slug",
            "acme-corp",
            "--group-name",
            "Sales",
            "--password",
            "123",
        )

    assert snapshot() == before


@pytest.mark.parametrize(
    ("org_slug", "group_name", "message"),
    [
        ("nowhere", "Managers", r"There is no organization with slug 'nowhere'\."),
        (
            "acme-corp",
            "Wizards",
            r"There is no group named 'Wizards' \(names are case-sensitive\)\. Create the seed's seven groups with "
            r"setup_organizations --action create_groups",
        ),
    ],
)
def test_add_user_refuses_an_unknown_organization_or_group(acme, org_slug, group_name, message):
    make_user(username="john_manager")
    before = snapshot()

    with pytest.raises(CommandError, match=message):
        run(
            "setup_organizations",
            "--action",
            "add_user",
            "--username",
            "john_manager",
            "--org-slug",
            org_slug,
            "--group-name",
            group_name,
        )

    assert snapshot() == before


def test_add_user_names_the_missing_flags(acme):
    with pytest.raises(CommandError, match=r"^--action add_user needs --org-slug and --group-name\.$"):
        run("setup_organizations", "--action", "add_user", "--username", "john_manager")

    assert Membership.objects.count() == 0


# set_permissions


def test_set_permissions_applies_the_document(acme, tmp_path):
    path = write_document(
        tmp_path / "permissions.json",
        {"format": FORMAT, "permissions": [permission("Managers", "shop.Customer", "push", "pull", "read")]},
    )

    out, _ = run(
        "setup_organizations",
        "--action",
        "set_permissions",
        "--org-slug",
        "acme-corp",
        "--config-file",
        str(path),
    )

    assert snapshot()["permissions"] == [
        ("acme-corp", "Managers", "shop.Customer", True, True, False, False, False, True)
    ]
    assert out.splitlines()[0] == "  created permission of Managers on shop.Customer: push, pull, read"


def test_set_permissions_refuses_an_invalid_document_and_writes_nothing(acme, tmp_path):
    make_permission(organization=acme, group=Group.objects.get(name="Managers"), model_label="shop.Order")
    path = write_document(
        tmp_path / "permissions.json",
        {
            "format": FORMAT,
            "permissions": [
                permission("Managers", "shop.Customer", "pull"),
                permission("Wizards", "shop.Order", "pull"),
            ],
        },
    )
    before = snapshot()

    with pytest.raises(CommandError) as caught:
        run(
            "setup_organizations",
            "--action",
            "set_permissions",
            "--org-slug",
            "acme-corp",
            "--config-file",
            str(path),
        )

    assert str(caught.value) == (
        f"{path} is not a valid permissions document:\n  - permissions[1].group: there is no group named 'Wizards'."
    )
    assert snapshot() == before


def test_set_permissions_names_the_missing_flags(acme):
    with pytest.raises(CommandError, match=r"^--action set_permissions needs --config-file\.$"):
        run("setup_organizations", "--action", "set_permissions", "--org-slug", "acme-corp")


# setup_example


@pytest.mark.django_db
def test_setup_example_creates_the_seed_organizations_groups_and_role_permissions():
    run("setup_organizations", "--action", "setup_example")

    state = snapshot()
    assert state["organizations"] == [
        ("acme-corp", "Acme Corporation", "", True),
        ("city-university", "City University", "", True),
        ("global-retail", "Global Retail", "", True),
    ]
    assert state["groups"] == sorted(DEFAULT_GROUPS)
    assert ModelPermission.objects.count() == 3 * 7 * 4
    flags = {(p[0], p[1], p[2]): p[3:] for p in state["permissions"]}
    assert flags[("acme-corp", "Administrators", "shop.Customer")] == (True,) * 6
    assert flags[("acme-corp", "Managers", "shop.Order")] == (True, True, True, True, False, True)
    assert flags[("global-retail", "Analysts", "shop.Report")] == (False, True, False, False, False, True)
    assert flags[("city-university", "Administrators", "shop.Product")] == (
        False,
        True,
        False,
        False,
        False,
        True,
    )


@pytest.mark.django_db
def test_setup_example_twice_keeps_changed_permissions():
    run("setup_organizations", "--action", "setup_example")
    row = ModelPermission.objects.get(
        organization__slug="acme-corp", group__name="Managers", model_label="shop.Order"
    )
    row.can_delete = True
    row.save()
    before = snapshot()

    out, _ = run("setup_organizations", "--action", "setup_example")

    assert snapshot() == before
    assert out.splitlines()[0] == (
        "Organization acme-corp (already existed): permissions: 0 created, 0 updated, 28 unchanged, 0 deleted; "
        "filters: 0 created, 0 updated, 0 unchanged, 0 deleted"
    )


@pytest.mark.django_db
def test_setup_example_with_a_conflicting_organization_writes_nothing():
    make_organization(name="Global Retail", slug="global")
    before = snapshot()

    with pytest.raises(CommandError, match="named 'Global Retail' already exists, with slug 'global'"):
        run("setup_organizations", "--action", "setup_example")

    assert snapshot() == before


# the command line


@pytest.mark.django_db
def test_setup_organizations_refuses_an_unknown_action():
    with pytest.raises(CommandError, match="argument --action: invalid choice: 'create_everything'"):
        run("setup_organizations", "--action", "create_everything")


def test_setup_organizations_error_exits_non_zero_with_the_message(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(DJANGO_SETTINGS_MODULE="tests.settings", SBSYNC_DATA_DIR=str(tmp_path))

    result = subprocess.run(
        [sys.executable, "manage.py", "setup_organizations", "--action", "add_user", "--username", "x"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert (result.returncode, result.stdout) == (1, "")
    assert (
        result.stderr.strip().splitlines()[-1]
        == "CommandError: --action add_user needs --org-slug and --group-name."
    )
