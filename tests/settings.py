"""Test settings: the demo's, with test-only values. DATABASE_URL selects PostgreSQL (CI runs both)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from sbsync.demo.settings import *  # noqa: F403
from sbsync.demo.settings import DATABASES, INSTALLED_APPS, ROOT_URLCONF, SBSYNC

if os.environ.get("SBSYNC_TEST_DB"):
    # Lets several checkouts run their suites against one PostgreSQL server at once.
    DATABASES["default"].setdefault("TEST", {})["NAME"] = os.environ["SBSYNC_TEST_DB"]
elif DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file, not memory: tests that start a subprocess (the Huey consumer) must reach the test database.
    DATABASES["default"].setdefault("TEST", {})["NAME"] = os.path.join(
        tempfile.gettempdir(), f"sbsync-test-{os.getpid()}.sqlite3"
    )

# The real Redis that tests needing one use (CI and the machine run it on 127.0.0.1:6379).
TEST_REDIS_URL = os.environ.get("SBSYNC_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "sbsync-tests"}}
HUEY = {"huey_class": "huey.MemoryHuey", "name": "sbsync-tests", "immediate": True}
SBSYNC = {**SBSYNC, "LOG_DIR": os.path.join(tempfile.gettempdir(), f"sbsync-test-logs-{os.getpid()}")}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
STATIC_ROOT = Path(tempfile.gettempdir()) / "sbsync-test-static"
STATIC_ROOT.mkdir(exist_ok=True)
DEBUG = False

# The benchmark's bare baseline, as its settings install it (sbsync/benchmark/settings.py), so its tests
# and mypy see the model; tests that serve it switch ROOT_URLCONF to sbsync.benchmark.urls.
INSTALLED_APPS = [*INSTALLED_APPS, "sbsync.benchmark.bare"]
BENCHMARK_BASE_URLCONF = ROOT_URLCONF
