from __future__ import annotations

import socket

import pytest
from django.db import connections
from django.db.utils import ConnectionHandler
from django.test import Client
from django.utils.dateparse import parse_datetime
from huey import RedisHuey
from huey.contrib import djhuey

HEALTH = "/api/sync/health/"
ALL_HEALTHY = {"database": "healthy", "cache": "healthy", "logging": "healthy", "task_queue": "healthy"}


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
    assert body["checks"] == {**ALL_HEALTHY, "database": "unhealthy"}
    assert body["reasons"] == {"database": "the database does not answer"}
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
