"""The throttles hold their configured rate under concurrent clients, counted in the real Redis of
SBSYNC_TEST_REDIS_URL and served by a real threaded HTTP server (pytest-django's live_server)."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import redis
from django.contrib.auth.hashers import MD5PasswordHasher
from knox.models import AuthToken

from tests.factories import PASSWORD, make_user

CLIENTS = 8


class CountingHasher(MD5PasswordHasher):
    """The test settings' hasher, counting the passwords it checks (the live server runs in this process)."""

    checks = 0
    lock = threading.Lock()

    def verify(self, password: str, encoded: str) -> bool:
        with self.lock:
            type(self).checks += 1
        return super().verify(password, encoded)


@pytest.fixture
def redis_cache(settings):
    """Every cache of the test on Redis, under a prefix of its own, removed afterwards."""
    prefix = f"sbsync-test-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": settings.TEST_REDIS_URL,
            "KEY_PREFIX": prefix,
        }
    }
    yield
    client = redis.Redis.from_url(settings.TEST_REDIS_URL)
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


def send(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> int:
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def at_once(task, per_client: int) -> list[int]:
    """``CLIENTS`` threads, released together, each calling ``task`` ``per_client`` times."""
    start = threading.Barrier(CLIENTS)

    def client() -> list[int]:
        start.wait()
        return [task() for _ in range(per_client)]

    with ThreadPoolExecutor(CLIENTS) as pool:
        return [status for statuses in pool.map(lambda _: client(), range(CLIENTS)) for status in statuses]


@pytest.mark.django_db(transaction=True)
def test_token_throttle_admits_exactly_its_rate_to_concurrent_clients(live_server, redis_cache, settings):
    settings.SBSYNC = {**settings.SBSYNC, "REQUEST_THROTTLE_RATE": "20/min"}
    _, token = AuthToken.objects.create(user=make_user())
    url = f"{live_server.url}/api/sync/jobs/{uuid.uuid4()}/"
    headers = {"Authorization": f"Bearer {token}"}

    burst = at_once(lambda: send(url, headers=headers), per_client=10)
    after = []
    while not after or after[-1] == 404:
        after.append(send(url, headers=headers))

    # 404: admitted (no such job); 429: throttled.
    assert set(burst) == {404, 429}
    assert burst.count(404) <= 20
    assert burst.count(404) + after.count(404) == 20


@pytest.mark.django_db(transaction=True)
def test_login_lockout_checks_exactly_the_limit_of_passwords_for_concurrent_clients(
    live_server, redis_cache, settings
):
    settings.AXES_FAILURE_LIMIT = 10
    settings.AXES_COOLOFF_TIME = timedelta(minutes=1)
    settings.PASSWORD_HASHERS = ["tests.api.test_throttle_concurrency.CountingHasher"]
    make_user(username="target")
    CountingHasher.checks = 0
    url = f"{live_server.url}/api/sync/auth/token/"
    wrong = b'{"username": "target", "password": "wrong"}'
    right = f'{{"username": "target", "password": "{PASSWORD}"}}'.encode()
    headers = {"Content-Type": "application/json"}

    burst = at_once(lambda: send(url, wrong, headers), per_client=8)
    checked_in_burst = CountingHasher.checks
    after = []
    while not after or after[-1] == 400:
        after.append(send(url, wrong, headers))
    then = send(url, right, headers)

    # 400: the password was checked and was wrong; 429: refused before any password check. An attempt
    # refused while others were being counted gives its count back, so the limit is reached exactly.
    assert checked_in_burst <= 10
    assert burst.count(400) == checked_in_burst
    assert CountingHasher.checks == 10
    assert burst.count(400) + after.count(400) == 10
    assert then == 429
