"""``manage.py cleanup_sync_logs [--days N] [--dry-run]``: retention of sync logs and log files."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from sbsync import conf
from sbsync.management.commands._options import whole_days
from sbsync.monitoring.maintenance import cleanup_sync_logs


class Command(BaseCommand):
    help = (
        "Delete sync logs older than LOG_RETENTION_DAYS (or --days), and the day log files in LOG_DIR "
        "older than 30 days (or --days, if shorter). --dry-run only counts."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, help="Keep this many days instead of LOG_RETENTION_DAYS.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Say what would be deleted; delete nothing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        days = whole_days(conf.get("LOG_RETENTION_DAYS") if options["days"] is None else options["days"])
        before = timezone.now() - timedelta(days=days)
        result = cleanup_sync_logs(before=before, dry_run=options["dry_run"])
        verb = "Would delete" if options["dry_run"] else "Deleted"
        self.stdout.write(
            f"{verb} {result.rows} sync log(s) older than {days} day(s) (before {before:%Y-%m-%d %H:%M} UTC) "
            f"and {len(result.files)} log file(s) from {conf.log_dir()}."
        )
        for path in result.files:
            self.stdout.write(f"  {path}")
