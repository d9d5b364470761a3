"""``manage.py setup_audit_trails --action setup|check|cleanup [--model app.Model] [--days N]``."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import models
from django.utils import timezone

from sbsync.management.commands._options import whole_days
from sbsync.monitoring import audit

ACTIONS = ("setup", "check", "cleanup")


class Command(BaseCommand):
    help = (
        "Audit trails of every model with simple-history (or --model app.Model). setup: an initial record "
        "for rows that have none. check: rows with and without history. cleanup: delete records older "
        "than --days (default 365), keeping the latest record of each existing row."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--action", required=True, choices=ACTIONS)
        parser.add_argument("--model", help="Only this model, as app_label.ModelName.")
        parser.add_argument(
            "--days", type=int, default=365, help="cleanup: keep this many days (default 365)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        selected = self.selected_models(options["model"])
        if options["action"] == "setup":
            self.setup(selected)
        elif options["action"] == "check":
            self.check_trails(selected)
        else:
            self.cleanup(selected, whole_days(options["days"]))

    def selected_models(self, label: str | None) -> list[type[models.Model]]:
        if label is None:
            return audit.history_models()
        try:
            return [audit.history_model_named(label)]
        except LookupError as exc:
            raise CommandError(str(exc)) from None

    def setup(self, selected: list[type[models.Model]]) -> None:
        total = 0
        for model in selected:
            created = audit.create_initial_history(model)
            total += created
            self.stdout.write(f"{model._meta.label}: {created} initial record(s)")
        self.stdout.write(f"Created {total} initial history record(s) for {len(selected)} model(s).")

    def check_trails(self, selected: list[type[models.Model]]) -> None:
        missing = 0
        for model in selected:
            status = audit.history_status(model)
            missing += status.without_history
            self.stdout.write(
                f"{status.label}: {status.rows} row(s), {status.with_history} with history, "
                f"{status.without_history} without, {status.records} record(s)"
            )
        if missing:
            self.stdout.write(f"{missing} row(s) have no history: run --action setup.")
        else:
            self.stdout.write("Every row has history.")

    def cleanup(self, selected: list[type[models.Model]], days: int) -> None:
        before = timezone.now() - timedelta(days=days)
        total = 0
        for model in selected:
            deleted = audit.delete_old_history(model, before=before)
            total += deleted
            self.stdout.write(f"{model._meta.label}: {deleted} record(s) deleted")
        self.stdout.write(f"Deleted {total} history record(s) older than {days} day(s).")
