"""``manage.py optimize_performance --action analyze|optimize|cleanup|monitor``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from sbsync.management.commands._options import whole_days
from sbsync.monitoring import maintenance, performance

ACTIONS = ("analyze", "optimize", "cleanup", "monitor")


class Command(BaseCommand):
    help = (
        "analyze: store and print an analysis of the last --days days (default 7) with suggestions. "
        "optimize: ANALYZE and VACUUM sbsync's and the synced models' tables; needs --force, without it "
        "prints the statements and exits with an error. cleanup: delete everything past its retention "
        "setting. monitor: print memory, database size, task queue and last-hour throughput."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--action", required=True, choices=ACTIONS)
        parser.add_argument("--days", type=int, default=7, help="analyze: the period in days (default 7).")
        parser.add_argument("--force", action="store_true", help="optimize: really run the statements.")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "analyze":
            self.analyze(whole_days(options["days"]))
        elif action == "optimize":
            self.optimize(options["force"])
        elif action == "cleanup":
            self.cleanup()
        else:
            self.monitor()

    def analyze(self, days: int) -> None:
        analysis = performance.analyze_performance(days=days)
        summary = analysis.summary
        requests = summary["requests"]
        self.stdout.write(f"Performance over the last {days} day(s) (analysis #{analysis.pk}):")
        self.stdout.write(
            f"  requests: {requests['pushes']} push, {requests['pulls']} pull, {requests['errors']} error(s), "
            f"{requests['records']} record(s)"
        )
        for op, timing in summary["timings"].items():
            self.stdout.write(
                f"  {op}: {timing['count']} request(s), average {timing['average']:.3f} s, "
                f"p50 {timing['p50']:.3f} s, p95 {timing['p95']:.3f} s, max {timing['maximum']:.3f} s"
            )
        for op, figures in summary["metrics"].items():
            memory = figures["peak_memory_mb"]
            self.stdout.write(
                f"  metrics {op}: {figures['count']} sample(s), average batch {figures['average_batch_size']:.0f}, "
                f"average queries {figures['average_query_count']:.1f}, "
                f"peak memory {'unknown' if memory is None else f'{memory:.0f} MB'}"
            )
        if not analysis.suggestions:
            self.stdout.write("No suggestions: every figure is within its threshold.")
            return
        self.stdout.write("Suggestions:")
        for suggestion in analysis.suggestions:
            self.stdout.write(f"  - {suggestion}")

    def optimize(self, force: bool) -> None:
        if not force:
            plan = maintenance.optimization_plan(vacuum=True)
            self.stdout.write("Would run:")
            for statement in plan.statements:
                self.stdout.write(f"  {statement}")
            raise CommandError(
                "Nothing was run: VACUUM can take a while and blocks writers on SQLite; pass --force to run it."
            )
        result = maintenance.optimize_tables(vacuum=True)
        self.stdout.write(f"Ran {len(result.statements)} statement(s):")
        for statement in result.statements:
            self.stdout.write(f"  {statement}")
        for reason in result.skipped:
            self.stdout.write(f"Skipped {reason}.")

    def cleanup(self) -> None:
        counts = maintenance.cleanup_all(now=timezone.now())
        self.stdout.write(
            "Deleted: "
            + ", ".join(f"{count} {name.replace('_', ' ')}" for name, count in counts.items())
            + "."
        )

    def monitor(self) -> None:
        snapshot = performance.resource_snapshot()
        hour = snapshot["last_hour"]
        size = snapshot["database_size_mb"]
        self.stdout.write(f"process memory: {snapshot['process_memory_mb']} MB")
        self.stdout.write(f"system memory in use: {snapshot['system_memory_percent']}%")
        self.stdout.write(f"database size: {'unknown' if size is None else f'{size} MB'}")
        if snapshot["queued_tasks"] is None:
            self.stdout.write("task queue: unreachable")
        else:
            self.stdout.write(
                f"task queue: {snapshot['queued_tasks']} queued, {snapshot['scheduled_tasks']} scheduled"
            )
        self.stdout.write(
            f"last hour: {hour['pushes']} push, {hour['pulls']} pull, {hour['errors']} error(s), "
            f"{hour['records']} record(s), {hour['records_per_minute']} records/minute"
        )
