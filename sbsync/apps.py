from __future__ import annotations

from django.apps import AppConfig


class SbsyncConfig(AppConfig):
    name = "sbsync"
    verbose_name = "sbsync"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from sbsync import conf, sqlite  # noqa: F401  (conf registers the system checks)
        from sbsync.sync.changes import tracking
        from sbsync.sync.push import history

        tracking.connect()
        history.connect()
        sqlite.connect()
