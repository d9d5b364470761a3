from __future__ import annotations

from django.apps import AppConfig


class BareConfig(AppConfig):
    name = "sbsync.benchmark.bare"
    label = "bench_bare"
    verbose_name = "benchmark baseline"
    default_auto_field = "django.db.models.BigAutoField"
