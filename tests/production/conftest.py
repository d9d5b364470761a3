"""The production deployment the tests of this package share (cluster.py): one private PostgreSQL and
Redis, the demo migrated and seeded once, two gunicorn servers of several workers and one Huey
consumer. Tests that stop or restart a service bring it back before they end."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.db import connection

from tests.production.cluster import AppServer, Consumer, Deployment, PgBouncer, PostgresServer, RedisServer

WORKERS = 2


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/production/" in str(item.fspath):
            item.add_marker(pytest.mark.postgres)
            if connection.vendor != "postgresql":
                item.add_marker(pytest.mark.skip(reason="production tests run in the PostgreSQL pass"))


@dataclass
class Cluster:
    postgres: PostgresServer
    redis: RedisServer
    deployment: Deployment
    servers: list[AppServer]
    consumer: Consumer

    @property
    def urls(self) -> list[str]:
        return [server.url for server in self.servers]


@pytest.fixture(scope="session")
def services() -> Iterator[tuple[PostgresServer, RedisServer, Path]]:
    directory = Path(tempfile.mkdtemp(prefix="sbsync-prod-"))
    try:
        (directory / "pg").mkdir()
        (directory / "redis").mkdir()
        postgres = PostgresServer(directory / "pg")
        redis = RedisServer(directory / "redis")
        postgres.start()
        redis.start()
        try:
            postgres.createdb("sbsync")
            # As README, "Behind PgBouncer", advises: Django then never sets the time zone per session.
            postgres.sql("ALTER DATABASE sbsync SET timezone TO 'UTC'")
            yield postgres, redis, directory
        finally:
            redis.stop()
            postgres.stop()
    finally:
        # SBSYNC_KEEP_CLUSTER=1 keeps the servers' logs and data for a look after a failure.
        if not os.environ.get("SBSYNC_KEEP_CLUSTER"):
            shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def cluster(services) -> Iterator[Cluster]:
    postgres, redis, directory = services
    deployment = Deployment(directory, postgres.url(), redis.url())
    deployment.manage("migrate", "--no-input")
    deployment.manage("seed_demo")
    servers = [AppServer(deployment, f"app-{n}", workers=WORKERS) for n in (1, 2)]
    consumer = Consumer(deployment)
    try:
        for server in servers:
            server.start()
        consumer.start()
        yield Cluster(postgres, redis, deployment, servers, consumer)
    finally:
        consumer.stop()
        for server in servers:
            server.stop()


@pytest.fixture(scope="session")
def pooled(services, cluster) -> Iterator[list[AppServer]]:
    """Two more app servers on the same database, connected through PgBouncer (transaction pooling)."""
    postgres, _redis, directory = services
    (directory / "pgbouncer").mkdir()
    bouncer = PgBouncer(directory / "pgbouncer", postgres)
    bouncer.start()
    deployment = Deployment(
        directory,
        postgres.url(port=bouncer.port),
        cluster.deployment.redis_url,
        extra={"DATABASE_POOLER": "transaction"},
    )
    servers = [AppServer(deployment, f"pooled-{n}", workers=WORKERS) for n in (1, 2)]
    try:
        for server in servers:
            server.start()
        yield servers
    finally:
        for server in servers:
            server.stop()
        bouncer.stop()
