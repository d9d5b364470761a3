"""``dynamic_permissions``: permissions documents (sbsync/permissions_io/) from the command line."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.apps import apps
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

from sbsync import discovery, provisioning
from sbsync.legacy_names import app_label_hint
from sbsync.management.commands._options import (
    add_apply_options,
    apply_from_file,
    output_json,
    read_document,
    require,
)
from sbsync.permissions_io import (
    ROLE_DEFAULTS,
    DocumentError,
    PermissionDocument,
    current_document,
    legacy,
    template_document,
    template_names,
)
from sbsync.roles import DEFAULT_GROUPS, ROLE_TEMPLATES, TEMPLATES

ACTIONS = ("discover", "generate", "apply", "export", "validate", "template")
FORMATS = ("sbsync", legacy.NAME)


class Command(BaseCommand):
    help = (
        "Manage model permissions as JSON documents: discover (models a document may name), generate (a "
        "document from a permission template), apply (a document to an organization), export (an "
        "organization's permissions and filters), validate (a document, writing nothing), template (list "
        "the permission templates)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--action", required=True, choices=ACTIONS)
        parser.add_argument("--org-slug", help="generate, apply, export, validate: the organization")
        parser.add_argument("--app-label", help="discover, generate: only models of this app")
        parser.add_argument(
            "--group-name",
            help="generate: only this group, with the template as it is (default: every group, each within its role)",
        )
        parser.add_argument(
            "--permission-template",
            default=ROLE_DEFAULTS,
            help=f"generate: one of {', '.join(template_names())} (default: {ROLE_DEFAULTS})",
        )
        parser.add_argument("--config-file", help="apply, validate: the permissions document to read")
        parser.add_argument(
            "--output-file", help="generate, export: where to write the document (default: standard output)"
        )
        parser.add_argument(
            "--format",
            choices=FORMATS,
            default="sbsync",
            help="generate, export: sbsync (the default, with row filters) or sb-sync (sb-sync's "
            "group → model → flags file, without row filters)",
        )
        add_apply_options(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, options["action"])(options)
        except (provisioning.SetupError, DocumentError) as exc:
            raise CommandError(str(exc)) from None

    def enabled_models(self, app_label: str | None) -> list[discovery.ModelStatus]:
        if app_label is not None:
            try:
                apps.get_app_config(app_label)
            except LookupError:
                raise CommandError(
                    f"No installed app has the label {app_label!r}.{app_label_hint(app_label)} "
                    "show_models --action summary lists the apps whose models sync."
                ) from None
        return [s for s in discovery.evaluate() if s.enabled and app_label in (None, s.model._meta.app_label)]

    def output(self, document: PermissionDocument, options: dict[str, Any], what: str) -> None:
        if options["format"] == legacy.NAME:
            data, notes = legacy.from_document(document)
            for note in notes:
                self.stderr.write(f"Warning: {note}")
            counts = f"{len(document.permissions)} permissions in sb-sync's format"
        else:
            data = document.to_json()
            counts = f"{len(data['permissions'])} permissions and {len(data['filters'])} filters"
        if output_json(self, data, options["output_file"]):
            self.stdout.write(self.style.SUCCESS(f"Wrote {what}: {counts} to {options['output_file']}."))

    def discover(self, options: dict[str, Any]) -> None:
        enabled = self.enabled_models(options["app_label"])
        self.stdout.write(f"{len(enabled)} models may appear in a permissions document:")
        for status in enabled:
            kind = (
                "shared: pull and read only"
                if status.shared
                else f"per organization (field {status.tenant_field})"
            )
            self.stdout.write(f"  {status.label:<32} {kind}")
        if not enabled:
            self.stdout.write("  (none: show_models --action all explains why)")

    def generate(self, options: dict[str, Any]) -> None:
        template = options["permission_template"]
        if template not in template_names():
            raise CommandError(
                f"Unknown --permission-template {template!r}; choose one of: {', '.join(template_names())}."
            )
        slug = options["org_slug"]
        if slug:
            provisioning.get_organization(slug)
        if options["group_name"]:
            groups = [provisioning.get_group(options["group_name"])]
        else:
            groups = list(Group.objects.order_by("name"))
            if not groups:
                raise CommandError(
                    "There are no groups yet: create the default ones with setup_organizations --action create_groups."
                )
        models = self.enabled_models(options["app_label"])
        if not models:
            raise CommandError(
                "No enabled models to generate permissions for (show_models --action all explains why)."
            )
        # A template given to every group stays within each seed group's role (Read Only never gets
        # push); --group-name applies it to that one group as it is.
        document = template_document(
            template=template,
            groups=groups,
            models=models,
            organization=slug,
            within_roles=not options["group_name"],
        )
        self.output(document, options, f"template {template}")

    def apply(self, options: dict[str, Any]) -> None:
        require(options, "apply", "config_file")
        apply_from_file(self, options, reason="dynamic_permissions apply")

    def export(self, options: dict[str, Any]) -> None:
        require(options, "export", "org_slug")
        organization = provisioning.get_organization(options["org_slug"])
        document, skipped = current_document(organization)
        for row in skipped:
            self.stderr.write(f"Warning: left out the {row}: the model is not enabled for sync.")
        self.output(document, options, f"the permissions of {organization.slug}")

    def validate(self, options: dict[str, Any]) -> None:
        require(options, "validate", "config_file")
        document, organization = read_document(self, options)
        target = f" for {organization.slug}" if organization else ""
        self.stdout.write(
            self.style.SUCCESS(
                f"{options['config_file']} is valid{target}: {len(document.permissions)} permissions, {len(document.filters)} filters."
            )
        )

    def template(self, options: dict[str, Any]) -> None:
        self.stdout.write("Permission templates (--permission-template):")
        for template in TEMPLATES.values():
            self.stdout.write(f"  {template.name:<14}{template.description}")
        self.stdout.write(f"  {ROLE_DEFAULTS:<14}each group its role's template (the default):")
        for group, name in ROLE_TEMPLATES.items():
            self.stdout.write(f"    {group:<16}{name:<13}{DEFAULT_GROUPS[group]}")
        self.stdout.write("    other groups    none")
        self.stdout.write("Shared (pull-only) models get at most pull and read from any template.")
