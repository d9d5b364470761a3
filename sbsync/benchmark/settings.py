"""Settings of the benchmark's servers: the project's own settings (the module named by
``SBSYNC_BENCHMARK_BASE_SETTINGS``) plus the bare baseline app under ``bench-bare/`` and a middleware
that reports the SQL statements each request ran. Both servers of a comparison run with these settings,
so they differ only in the code behind their URLs."""

from __future__ import annotations

import importlib
import os

_base = importlib.import_module(os.environ["SBSYNC_BENCHMARK_BASE_SETTINGS"])
globals().update({name: value for name, value in vars(_base).items() if name.isupper()})

INSTALLED_APPS = [*_base.INSTALLED_APPS, "sbsync.benchmark.bare"]
MIDDLEWARE = ["sbsync.benchmark.middleware.count_statements", *_base.MIDDLEWARE]
BENCHMARK_BASE_URLCONF = _base.ROOT_URLCONF
ROOT_URLCONF = "sbsync.benchmark.urls"
WSGI_APPLICATION = "sbsync.benchmark.wsgi.application"
# sync_benchmark --no-history measures what recording history costs.
SIMPLE_HISTORY_ENABLED = os.environ.get("SBSYNC_BENCHMARK_HISTORY", "1") != "0"
