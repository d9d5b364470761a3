"""``setup_organizations``: organizations, groups, members and permissions (the seed's actions)."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from sbsync import provisioning
from sbsync.management.commands._options import add_apply_options, apply_from_file, require
from sbsync.permissions_io import DocumentError
from sbsync.roles import DEFAULT_GROUPS, create_default_groups

ACTIONS = ("create_org", "create_groups", "add_user", "set_permissions", "setup_example")


class Command(BaseCommand):
    help = (
        "Set up multi-tenant sync: create an organization (create_org), the seven default groups "
        "(create_groups), put a user in an organization with a group (add_user), apply a permissions "
        "document to an organization (set_permissions), or create the seed's example system (setup_example)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--action", required=True, choices=ACTIONS)
        parser.add_argument("--org-name", help="create_org: the organization's display name")
        parser.add_argument(
            "--org-slug", help="create_org, add_user, set_permissions: the organization's slug"
        )
        parser.add_argument("--description", default="", help="create_org: an optional description")
        parser.add_argument("--username", help="add_user: the user to add")
        parser.add_argument("--group-name", help="add_user: the user's group (role) in the organization")
        parser.add_argument(
            "--password", help="add_user: create the user with this password if it does not exist"
        )
        parser.add_argument("--email", default="", help="add_user: email of a user created with --password")
        parser.add_argument("--config-file", help="set_permissions: the permissions document (JSON) to apply")
        add_apply_options(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        try:
            getattr(self, action)(options)
        except (provisioning.SetupError, DocumentError) as exc:
            raise CommandError(str(exc)) from None

    def create_org(self, options: dict[str, Any]) -> None:
        require(options, "create_org", "org_name", "org_slug")
        organization, created = provisioning.create_organization(
            name=options["org_name"], slug=options["org_slug"], description=options["description"]
        )
        if created:
            self.stdout.write(
                self.style.SUCCESS(f"Created organization {organization.name} ({organization.slug}).")
            )
        else:
            self.stdout.write(
                f"Organization {organization.name} ({organization.slug}) already exists; unchanged."
            )

    def create_groups(self, options: dict[str, Any]) -> None:
        created, existing = create_default_groups()
        for group in created:
            self.stdout.write(self.style.SUCCESS(f"Created group {group.name}: {DEFAULT_GROUPS[group.name]}"))
        for group in existing:
            self.stdout.write(f"Group {group.name} already exists.")
        self.stdout.write(f"{len(created)} created, {len(existing)} already existed.")

    def add_user(self, options: dict[str, Any]) -> None:
        require(options, "add_user", "username", "org_slug", "group_name")
        organization = provisioning.get_organization(options["org_slug"])
        group = provisioning.get_group(options["group_name"])
        try:
            result = provisioning.add_member(
                username=options["username"],
                organization=organization,
                group=group,
                password=options["password"],
                email=options["email"],
            )
        except provisioning.UnknownUser as exc:
            raise CommandError(
                f"{exc} Create it first, or pass --password (and --email) to create it here."
            ) from None
        username = options["username"]
        if result.user_created:
            self.stdout.write(self.style.SUCCESS(f"Created user {username}."))
        elif options["password"] is not None or options["email"]:
            self.stdout.write(f"User {username} already exists; its password and email were left unchanged.")
        where = f"{organization.name} ({organization.slug})"
        messages = {
            "added": f"Added {username} to {where} as {group.name}.",
            "moved": f"Moved {username} in {where} from {result.previous_group} to {group.name}.",
            "reactivated": f"Reactivated {username} in {where} as {group.name}.",
            "unchanged": f"{username} is already in {where} as {group.name}; unchanged.",
        }
        message = messages[result.outcome]
        self.stdout.write(message if result.outcome == "unchanged" else self.style.SUCCESS(message))

    def set_permissions(self, options: dict[str, Any]) -> None:
        require(options, "set_permissions", "org_slug", "config_file")
        apply_from_file(self, options, reason="setup_organizations set_permissions")

    def setup_example(self, options: dict[str, Any]) -> None:
        report = provisioning.setup_example()
        for slug, applied in report.permissions.items():
            state = "created" if slug in report.organizations_created else "already existed"
            self.stdout.write(f"Organization {slug} ({state}): {applied.summary()}")
        self.stdout.write(
            f"Groups created: {', '.join(report.groups_created) or 'none (all seven existed)'}."
        )
        if not report.models:
            self.stdout.write(
                self.style.WARNING(
                    "No model is enabled for sync, so no permissions were set; see show_models --action all."
                )
            )
        else:
            self.stdout.write(f"Models: {', '.join(report.models)}.")
        self.stdout.write(
            self.style.SUCCESS(
                "Example system ready. Add users with: "
                "setup_organizations --action add_user --username <name> --org-slug acme-corp --group-name Managers"
            )
        )
