"""``seed_demo``: the demo's organizations, users, permissions and records (idempotent)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from sbsync.demo.shop.seed import DEMO_USERS, PASSWORD, seed_demo
from sbsync.provisioning import SetupError


class Command(BaseCommand):
    help = (
        "Seed the demo: three organizations, the seven groups, demo users (password sbsync-demo), the "
        "seed's permission table, a Sales data filter and a few hundred records per organization. Creates "
        "only what is missing, so it is safe to run again."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = seed_demo()
        except SetupError as exc:
            raise CommandError(f"Cannot seed the demo: {exc}") from None
        done = ", ".join(f"{count} {what}" for what, count in report.created.items() if count)
        self.stdout.write(
            f"Created or restored: {done}."
            if done
            else "Every organization, user and record already existed."
        )
        for slug, applied in report.permissions.items():
            self.stdout.write(f"  {slug}: {applied.summary()}")
        if not done and not any(a.changed for a in report.permissions.values()):
            self.stdout.write("The demo was already seeded; nothing changed.")
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo users (password {PASSWORD}): {', '.join(u.username for u in DEMO_USERS)}."
            )
        )
