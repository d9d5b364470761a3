"""Settings of a ``manage.py run_huey`` subprocess started by a test: the test settings, pointed at the
running test's database and at a Redis queue of its own (tests/api/test_jobs.py)."""

from __future__ import annotations

import os

from tests.settings import *  # noqa: F403
from tests.settings import DATABASES

DATABASES["default"]["NAME"] = os.environ["SBSYNC_CONSUMER_DB_NAME"]
HUEY = {
    "huey_class": "huey.RedisHuey",
    "name": os.environ["SBSYNC_CONSUMER_HUEY_NAME"],
    "url": os.environ["SBSYNC_TEST_REDIS_URL"],
    "immediate": False,
    "consumer": {"workers": 1, "worker_type": "thread"},
}
