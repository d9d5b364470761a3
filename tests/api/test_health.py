from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from django.db import connections
from django.db.utils import ConnectionHandler
from django.test import Client
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from huey import RedisHuey
from huey.contrib import djhuey

from sbsync.enums import LogStatus
from tests.factories import make_sync_log

HEALTH = "/api/sync/health/"
ALL_HEALTHY = {
    "database": "healthy",
    "cache": "healthy",
    "logging": "healthy",
    "task_queue": "healthy",
    "memory": "healthy",
    "performance": "healthy",
}


@pytest.fixture
def closed_port():
    """A local port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def assert_reveals_nothing(response, *secrets):
    text = response.content.decode()
    for secret in secrets:
        assert str(secret) not in text


def test_health_is_public_and_healthy_when_every_service_answers(db):
    response = Client().get(HEALTH)

    body = response.json()
    assert response.status_code == 200
    assert (body["status"], body["checks"]) == ("healthy", ALL_HEALTHY)
    assert parse_datetime(body["timestamp"]) is not None
    assert set(body) == {"status", "timestamp", "checks"}


def test_health_checks_a_real_redis_task_queue(db, monkeypatch, settings):
    monkeypatch.setattr(djhuey, "HUEY", RedisHuey("sbsync-health-test", url=settings.TEST_REDIS_URL))

    response = Client().get(HEALTH)

    assert (response.status_code, response.json()["checks"]) == (200, ALL_HEALTHY)


def test_an_unreachable_task_queue_is_503_naming_the_check(db, monkeypatch, closed_port):
    monkeypatch.setattr(
        djhuey, "HUEY", RedisHuey("sbsync-health-test", url=f"redis://127.0.0.1:{closed_port}/0")
    )

    response = Client().get(HEALTH)

    body = response.json()
    assert response.status_code == 503
    assert (body["status"], body["checks"]) == ("unhealthy", {**ALL_HEALTHY, "task_queue": "unhealthy"})
    assert body["reasons"] == {"task_queue": "the task queue does not answer"}
    assert (body["error"], body["detail"]) == ("unhealthy", "Failed checks: task_queue.")
    assert_reveals_nothing(response, closed_port, "127.0.0.1", "redis", "Connection")


def test_an_unreachable_database_is_503_naming_the_check(db, closed_port):
    broken = ConnectionHandler(
        {
            "default": {
                "ENGINE": "django.db.backends.postgresql",
                "NAME": "sbsync_prod",
                "USER": "sbsync_user",
                "PASSWORD": "hunter2-secret",
                "HOST": "127.0.0.1",
                "PORT": str(closed_port),
            }
        }
    )["default"]
    working = connections["default"]
    connections["default"] = broken
    try:
        response = Client().get(HEALTH)
    finally:
        connections["default"] = working

    body = response.json()
    assert response.status_code == 503
    assert body["checks"] == {**ALL_HEALTHY, "database": "unhealthy", "performance": "warning"}
    assert body["reasons"] == {
        "database": "the database does not answer",
        "performance": "the sync logs cannot be read",
    }
    assert_reveals_nothing(response, closed_port, "sbsync_prod", "sbsync_user", "hunter2-secret", "postgres")


def test_an_unreachable_cache_is_503_naming_the_check(db, settings, closed_port):
    settings.CACHES = {
        **settings.CACHES,
        "broken": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port}/3",
        },
    }
    settings.SBSYNC = {**settings.SBSYNC, "CACHE_ALIAS": "broken"}

    response = Client().get(HEALTH)

    assert response.status_code == 503
    assert response.json()["checks"] == {**ALL_HEALTHY, "cache": "unhealthy"}
    assert_reveals_nothing(response, closed_port, "redis")


def test_an_unwritable_log_directory_is_503_naming_the_check(db, settings, tmp_path):
    not_a_directory = tmp_path / "a-file"
    not_a_directory.write_text("x")
    settings.SBSYNC = {**settings.SBSYNC, "LOG_DIR": str(not_a_directory / "logs")}

    response = Client().get(HEALTH)

    assert response.status_code == 503
    assert response.json()["checks"] == {**ALL_HEALTHY, "logging": "unhealthy"}
    assert_reveals_nothing(response, tmp_path)


def test_health_ignores_a_bad_token(db):
    response = Client().get(HEALTH, headers={"Authorization": "Bearer nonsense"})

    assert (response.status_code, response.json()["status"]) == (200, "healthy")


# Threshold checks: memory and performance warn, the status degrades, and a server that answers stays 200.


def test_memory_past_its_threshold_degrades_the_status_but_stays_200(db, settings, caplog):
    settings.SBSYNC = {**settings.SBSYNC, "HEALTH_MEMORY_MB": 1}  # any real process uses more

    response = Client().get(HEALTH)

    body = response.json()
    assert response.status_code == 200
    assert (body["status"], body["checks"]) == ("degraded", {**ALL_HEALTHY, "memory": "warning"})
    assert body["reasons"] == {"memory": "memory use is above the threshold"}
    assert "error" not in body
    assert "HEALTH_MEMORY_MB 1" in caplog.text and " MB" not in response.content.decode()


def test_a_degraded_server_answers_503_when_configured_to(db, settings):
    settings.SBSYNC = {**settings.SBSYNC, "HEALTH_MEMORY_MB": 1, "HEALTH_DEGRADED_STATUS": 503}

    response = Client().get(HEALTH)

    body = response.json()
    assert response.status_code == 503
    assert (body["status"], body["error"], body["detail"]) == (
        "degraded",
        "degraded",
        "Checks past their threshold: memory.",
    )


def test_slow_recent_sync_operations_warn_and_old_ones_do_not_count(db, settings):
    settings.SBSYNC = {**settings.SBSYNC, "HEALTH_SLOW_SECONDS": 2.0, "HEALTH_WINDOW_MINUTES": 15}
    old = timezone.now() - timedelta(minutes=20)
    make_sync_log(processing_time=60.0, timestamp=old)
    make_sync_log(processing_time=0.1)
    make_sync_log(processing_time=0.3)

    assert Client().get(HEALTH).json()["checks"]["performance"] == "healthy"

    make_sync_log(processing_time=9.0)  # mean of the window: 3.13 s
    body = Client().get(HEALTH).json()

    assert (body["status"], body["checks"]["performance"]) == ("degraded", "warning")
    assert body["reasons"] == {"performance": "sync operations are slower than the threshold"}


def test_a_high_share_of_failed_sync_operations_warns(db, settings):
    settings.SBSYNC = {**settings.SBSYNC, "HEALTH_ERROR_RATE": 0.5}
    make_sync_log(status=LogStatus.ERROR)
    make_sync_log()

    assert Client().get(HEALTH).json()["checks"]["performance"] == "healthy"  # 1 of 2 is not above 0.5

    make_sync_log(status=LogStatus.ERROR)
    body = Client().get(HEALTH).json()

    assert body["reasons"] == {"performance": "too many sync operations failed recently"}


def test_a_failed_check_and_a_warning_together_are_unhealthy_and_503(db, settings, tmp_path):
    not_a_directory = tmp_path / "a-file"
    not_a_directory.write_text("x")
    settings.SBSYNC = {**settings.SBSYNC, "LOG_DIR": str(not_a_directory / "logs"), "HEALTH_MEMORY_MB": 1}

    response = Client().get(HEALTH)

    body = response.json()
    assert (response.status_code, body["status"]) == (503, "unhealthy")
    assert body["checks"] == {**ALL_HEALTHY, "logging": "unhealthy", "memory": "warning"}
    assert body["detail"] == "Failed checks: logging."


def test_a_database_error_in_an_api_view_is_a_json_503_asking_to_retry(db, closed_port, trio):
    """A database that stops answering mid-request (restart, failover) is a 503 in the error shape, not
    an HTML 500 (tests/production restarts a real PostgreSQL under load)."""
    from tests.api.conftest import token_for

    token = token_for(trio.alice)
    broken = ConnectionHandler(
        {
            "default": {
                "ENGINE": "django.db.backends.postgresql",
                "NAME": "sbsync_prod",
                "USER": "sbsync_user",
                "HOST": "127.0.0.1",
                "PORT": str(closed_port),
            }
        }
    )["default"]
    working = connections["default"]
    connections["default"] = broken
    try:
        response = Client().post(
            "/api/sync/pull/",
            {"models": {"shop.Customer": None}},
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}"},
        )
    finally:
        connections["default"] = working

    assert response.status_code == 503
    assert response.json() == {
        "error": "database_unavailable",
        "detail": "The database is unavailable; try again shortly.",
    }
    assert response.headers["Retry-After"] == "5"
    assert_reveals_nothing(response, closed_port, "sbsync_user", "postgres")
