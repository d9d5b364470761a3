from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone

from sbsync.models import SyncLog
from tests.factories import make_sync_log


def run(*args: str) -> str:
    out = StringIO()
    call_command("cleanup_sync_logs", *args, stdout=out)
    return out.getvalue()


def _days_ago(days: float):
    return timezone.now() - timedelta(days=days)


@pytest.fixture
def logs(db, tmp_path):
    """Logs 5, 20 and 100 days old, and day log files of 5, 20 and 100 days ago, in a LOG_DIR of their own."""
    rows = {age: make_sync_log(timestamp=_days_ago(age)) for age in (5, 20, 100)}
    for age in (5, 20, 100):
        day_file(tmp_path, age).write_text("old lines\n")
    with override_settings(SBSYNC={"LOG_DIR": str(tmp_path)}):
        yield rows


def day_file(directory, age: int):
    return directory / f"sb_sync-{(timezone.localdate() - timedelta(days=age)).isoformat()}.log"


def _remaining() -> list[int]:
    return sorted(SyncLog.objects.values_list("pk", flat=True))


def test_cleanup_sync_logs_applies_log_retention_days(logs, tmp_path):
    out = run()

    assert out.startswith("Deleted 1 sync log(s) older than 90 day(s) (before ")
    assert out.endswith(f"and 1 log file(s) from {tmp_path}.\n  {day_file(tmp_path, 100)}\n")
    assert _remaining() == sorted([logs[5].pk, logs[20].pk])
    assert sorted(tmp_path.iterdir()) == sorted([day_file(tmp_path, 5), day_file(tmp_path, 20)])


def test_cleanup_sync_logs_days_overrides_the_setting(logs, tmp_path):
    out = run("--days", "10")

    assert out.startswith("Deleted 2 sync log(s) older than 10 day(s)")
    assert _remaining() == [logs[5].pk]
    assert list(tmp_path.iterdir()) == [day_file(tmp_path, 5)]


def test_cleanup_sync_logs_dry_run_deletes_nothing(logs, tmp_path):
    out = run("--days", "10", "--dry-run")

    assert out.startswith("Would delete 2 sync log(s) older than 10 day(s)")
    assert len(_remaining()) == 3
    assert len(list(tmp_path.iterdir())) == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--days", "0"], "--days must be a whole number of days, at least 1 (got 0)."),
        (["--days", "-3"], "--days must be a whole number of days, at least 1 (got -3)."),
        (["--days", "many"], "Error: argument --days: invalid int value: 'many'"),
    ],
)
def test_cleanup_sync_logs_rejects_bad_days_and_deletes_nothing(logs, tmp_path, args, message):
    with pytest.raises(CommandError) as excinfo:
        run(*args)

    assert str(excinfo.value) == message
    assert len(_remaining()) == 3
    assert len(list(tmp_path.iterdir())) == 3
