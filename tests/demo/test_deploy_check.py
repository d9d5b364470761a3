"""The demo's production settings pass Django's deployment checks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_check_deploy_in_production_mode_reports_no_error(tmp_path):
    # As production runs it: no test-only variables (the browser tests set DJANGO_ALLOW_ASYNC_UNSAFE).
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="sbsync.demo.settings",
        SBSYNC_DATA_DIR=str(tmp_path),
        DEBUG="0",
        SECRET_KEY="a-production-secret-key-" + "x" * 40,
        ALLOWED_HOSTS="sync.example.com",
    )

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "ERROR"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert "ERRORS:" not in result.stderr
