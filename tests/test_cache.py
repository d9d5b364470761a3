from __future__ import annotations

import uuid

import pytest
import redis
from django.core.cache import caches

from sbsync import access
from sbsync.cache import REGISTRY_KEY, generation, get_or_compute, purge_stale
from tests.factories import make_permission


@pytest.fixture
def shared_cache(settings):
    """The configuration cache on the real Redis of SBSYNC_TEST_REDIS_URL, under a prefix of its own."""
    url = settings.TEST_REDIS_URL
    prefix = f"sbsync-test-{uuid.uuid4().hex}"
    settings.CACHES = {
        **settings.CACHES,
        "shared": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": prefix,
        },
    }
    settings.SBSYNC = {**settings.SBSYNC, "CACHE_ALIAS": "shared"}
    client = redis.Redis.from_url(url)
    yield lambda: sorted(key.decode().split(":", 2)[2] for key in client.scan_iter(f"{prefix}:*"))
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)


@pytest.mark.django_db
def test_purge_stale_deletes_old_generations_from_a_shared_redis_cache(trio, shared_cache):
    old = generation()
    access.access_for(trio.alice, trio.acme)
    make_permission(organization=trio.acme, group=trio.members, model_label="shop.Order")
    new = generation()
    access.access_for(trio.bob, trio.acme)

    purged = purge_stale(new)

    discovery_key = next(k for k in caches["shared"].get(REGISTRY_KEY) if ":discovery:" in k)
    assert purged == 3
    assert discovery_key.startswith(f"sbsync:{new}:discovery:")
    assert shared_cache() == sorted(
        [
            REGISTRY_KEY,
            discovery_key,
            f"sbsync:{new}:filters:{trio.acme.pk}:{trio.members.pk}",
            f"sbsync:{new}:perms:{trio.acme.pk}:{trio.members.pk}",
        ]
    )
    assert caches["shared"].get(REGISTRY_KEY) == {
        discovery_key,
        f"sbsync:{new}:filters:{trio.acme.pk}:{trio.members.pk}",
        f"sbsync:{new}:perms:{trio.acme.pk}:{trio.members.pk}",
    }
    assert old != new


@pytest.mark.django_db
def test_purge_stale_counts_only_entries_still_in_the_cache(shared_cache):
    get_or_compute("gen-a", "one", lambda: 1)
    get_or_compute("gen-a", "two", lambda: 2)
    caches["shared"].delete("sbsync:gen-a:one")

    purged = purge_stale("gen-b")

    assert purged == 1
    assert shared_cache() == [REGISTRY_KEY]
