"""``manage.py manage_config --action show|export|import|validate|summary|reset``."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sbsync import config_io
from sbsync.management.commands._options import output_json
from sbsync.permissions_io import DocumentError, read_json

ACTIONS = ("show", "export", "import", "validate", "summary", "reset")
FORMATS = ("json",)


class Command(BaseCommand):
    help = (
        "The configuration: the database-held discovery configuration, model permissions and data filters "
        "(and, for show, the effective SBSYNC settings). export writes it as JSON to --file or stdout; "
        "import replaces it with a --file (validated first, all or nothing); validate checks settings and "
        "database; summary counts; reset --force deletes it (back to a fresh installation)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--action", required=True, choices=ACTIONS)
        parser.add_argument("--file", help="export: where to write (default: stdout). import: what to read.")
        parser.add_argument("--format", default="json", help="Only json.")
        parser.add_argument("--force", action="store_true", help="reset: really delete the configuration.")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action in ("export", "import") and options["format"] not in FORMATS:
            raise CommandError(f"Unsupported format {options['format']!r}: use json.")
        try:
            self.run(action, options)
        except DocumentError as exc:
            raise CommandError(str(exc)) from None

    def run(self, action: str, options: dict[str, Any]) -> None:
        if action == "show":
            self.show()
        elif action == "export":
            self.export(options["file"])
        elif action == "import":
            self.import_(options["file"])
        elif action == "validate":
            self.validate()
        elif action == "summary":
            self.summary()
        else:
            self.reset(options["force"])

    def exported(self) -> dict[str, Any]:
        document, left_out = config_io.export_config()
        for item in left_out:
            self.stderr.write(f"Warning: {item}")
        return document

    def show(self) -> None:
        self.stdout.write("SBSYNC settings (effective values; durations in seconds):")
        for name, value in config_io.effective_settings().items():
            self.stdout.write(f"  {name} = {json.dumps(value)}")
        self.stdout.write("Database configuration:")
        self.stdout.write(json.dumps(self.exported(), indent=2))

    def export(self, file: str | None) -> None:
        if output_json(self, self.exported(), file):
            self.stdout.write(f"Exported the configuration to {file}.")

    def import_(self, file: str | None) -> None:
        if not file:
            raise CommandError("import needs --file.")
        document = read_json(file)
        try:
            result = config_io.import_config(document)
        except config_io.ConfigError as exc:
            for error in exc.errors:
                self.stderr.write(f"  {error}")
            raise CommandError(
                f"{file} was not imported: {len(exc.errors)} problem(s); nothing was changed."
            ) from None
        for warning in result.warnings:
            self.stderr.write(f"Warning: {warning}")
        self.stdout.write(
            f"Imported {file}: {result.total('created')} created, {result.total('updated')} updated, "
            f"{result.total('deleted')} deleted."
        )

    def validate(self) -> None:
        errors, warnings = config_io.validate_current()
        for warning in warnings:
            self.stdout.write(f"warning: {warning}")
        for error in errors:
            self.stderr.write(f"error: {error}")
        if errors:
            raise CommandError(f"The configuration has {len(errors)} error(s).")
        self.stdout.write("The configuration is valid.")

    def summary(self) -> None:
        for name, value in config_io.summary().items():
            shown = ", ".join(value) or "none" if isinstance(value, list) else value
            self.stdout.write(f"{name.replace('_', ' ')}: {shown}")

    def reset(self, force: bool) -> None:
        deleted = {
            kind: counts["deleted"]
            for kind, counts in config_io.reset_config(dry_run=not force).counts.items()
        }
        rows = (
            f"{deleted['permissions']} permission(s), {deleted['filters']} data filter(s) "
            f"and {deleted['discovery']} discovery configuration(s)"
        )
        if not force:
            raise CommandError(f"reset would delete {rows}; nothing was changed. Pass --force to do it.")
        self.stdout.write(f"Reset: deleted {rows}.")
