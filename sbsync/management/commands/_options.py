"""Argument handling and output shared by the commands (the leading underscore keeps it from being a command)."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from sbsync import provisioning
from sbsync.models import Organization
from sbsync.permissions_io import ApplyMode, PermissionDocument, apply_document, load_document, write_json


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def require(options: dict[str, Any], action: str, *names: str) -> None:
    """Fail with the action's missing flags named, before anything is done."""
    missing = [flag(n) for n in names if options.get(n) in (None, "")]
    if missing:
        raise CommandError(f"--action {action} needs {' and '.join(missing)}.")


def whole_days(days: Any) -> int:
    """``days`` (from --days, or a ``*_RETENTION_DAYS`` setting) if it is a whole number of days, at least 1."""
    if not isinstance(days, int) or isinstance(days, bool) or days < 1:
        raise CommandError(f"--days must be a whole number of days, at least 1 (got {days!r}).")
    return days


def output_json(command: BaseCommand, data: dict[str, Any], path: str | None) -> bool:
    """Write ``data`` to the file ``path`` (whole: see ``write_json``), or to stdout when there is no path.
    Returns whether a file was written, for the caller to say so."""
    if not path:
        command.stdout.write(json.dumps(data, indent=2))
        return False
    write_json(data, path)
    return True


def add_apply_options(parser: ArgumentParser) -> None:
    parser.add_argument(
        "--replace",
        action="store_true",
        help="apply: also delete the organization's permissions and filters the document does not name",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="apply: report what would change, write nothing"
    )


def read_document(
    command: BaseCommand, options: dict[str, Any]
) -> tuple[PermissionDocument, Organization | None]:
    """Read and validate the document of --config-file, and find the organization of --org-slug (or the
    one the document names; None when neither names one). Writes the document's warnings to stderr."""
    document = load_document(options["config_file"])
    slug = options.get("org_slug") or document.organization
    organization = provisioning.get_organization(slug) if slug else None
    for warning in document.warnings:
        command.stderr.write(f"Warning: {warning}")
    return document, organization


def apply_from_file(command: BaseCommand, options: dict[str, Any], *, reason: str) -> None:
    """Validate the document of --config-file and apply it to --org-slug (or the organization it names)."""
    document, organization = read_document(command, options)
    if organization is None:
        raise CommandError("Name the organization: pass --org-slug, or set 'organization' in the document.")
    slug = organization.slug
    if document.organization and document.organization != slug:
        command.stdout.write(f"The document was written for {document.organization}; applying it to {slug}.")
    mode: ApplyMode = "replace" if options["replace"] else "merge"
    report = apply_document(document, organization, mode=mode, dry_run=options["dry_run"], reason=reason)
    for line in report.changes:
        command.stdout.write(f"  {'would have ' if options['dry_run'] else ''}{line}")
    prefix = (
        "Dry run, nothing written" if options["dry_run"] else f"Applied {options['config_file']} to {slug}"
    )
    message = f"{prefix}: {report.summary()}."
    command.stdout.write(
        command.style.SUCCESS(message) if report.changed and not options["dry_run"] else message
    )
