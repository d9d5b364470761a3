"""Settings of the gunicorn server a client test starts: the test settings, pointed at the running test's
database, without throttles (a fault-injection run sends many requests)."""

from __future__ import annotations

import os

from tests.settings import *  # noqa: F403
from tests.settings import DATABASES, SBSYNC

DATABASES["default"]["NAME"] = os.environ["SBSYNC_SERVER_DB_NAME"]
DATABASES["default"]["CONN_MAX_AGE"] = 0
SBSYNC = {**SBSYNC, "REQUEST_THROTTLE_RATE": None, "LOGIN_THROTTLE_RATE": None}
