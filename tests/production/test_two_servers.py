"""Two app servers (gunicorn, several workers each) on one PostgreSQL and one Redis, load alternating
between them; then the same through PgBouncer in transaction pooling. Every client converges, no
acknowledged write is lost, nothing is duplicated, no answer is a 5xx."""

from __future__ import annotations

import json
import subprocess
import sys

from sbsync.demo.loadtest.verify import verify
from tests.production.cluster import ROOT
from tests.production.load import drive, make_clients, statuses

ROUNDS = 6


def assert_converged(clients, urls, postgres):
    report = verify([client.state() for client in clients], urls)
    assert report.ok, report.problems
    assert report.acknowledged > 50
    run = clients[0].run
    # The database itself: each client-written row once, and exactly the acknowledged ones.
    duplicated = postgres.sql(
        f"SELECT count(*) FROM (SELECT name FROM shop_customer WHERE name LIKE 'lt-{run}-%' "
        f"GROUP BY name HAVING count(*) > 1) d"
    )
    assert duplicated == "0"
    expected = sum(
        1
        for client in clients
        for key, fields in client.expected.items()
        if fields and key.startswith("shop.Customer:")
    )
    assert postgres.sql(f"SELECT count(*) FROM shop_customer WHERE name LIKE 'lt-{run}-%'") == str(expected)
    reports = sum(
        1 for client in clients for key, f in client.expected.items() if f and key.startswith("shop.Report:")
    )
    assert postgres.sql(f"SELECT count(*) FROM shop_report WHERE results LIKE 'lt-{run}-%'") == str(reports)


def test_two_servers_converge_under_alternating_load(cluster):
    clients = make_clients(cluster.urls)
    logged = [server.log_size() for server in cluster.servers]

    errors = drive(clients, ROUNDS)

    assert errors == []
    seen = statuses(clients)
    assert not [status for status in seen if status >= 500], seen
    assert sum(client.stats.transport_errors for client in clients) == 0
    assert_converged(clients, cluster.urls, cluster.postgres)
    for server, since in zip(cluster.servers, logged, strict=True):  # no error logged meanwhile
        assert "Traceback" not in server.log_text(since)


def test_two_servers_behind_pgbouncer_in_transaction_pooling_converge(cluster, pooled):
    urls = [server.url for server in pooled]
    clients = make_clients(urls)
    logged = [server.log_size() for server in pooled]

    errors = drive(clients, ROUNDS)

    assert errors == []
    seen = statuses(clients)
    assert not [status for status in seen if status >= 500], seen
    assert_converged(clients, urls, cluster.postgres)
    for server, since in zip(pooled, logged, strict=True):
        assert "Traceback" not in server.log_text(since)


def test_locust_run_against_both_servers_then_loadtest_verify_passes(cluster, tmp_path):
    """The documented load test, briefly: Locust's users on both servers, then the convergence check."""
    hosts = ",".join(url.removesuffix("/api/sync/") for url in cluster.urls)
    state = tmp_path / "state"
    env = cluster.deployment.env()
    locust = subprocess.run(
        [
            sys.executable,
            "-m",
            "locust",
            "-f",
            "sbsync/demo/loadtest/locustfile.py",
            "--headless",
            "-u",
            "8",
            "-r",
            "8",
            "-t",
            "12s",
            "--stop-timeout",
            "20",
            "--host",
            hosts.split(",")[0],
            "--sbsync-hosts",
            hosts,
            "--sbsync-state-dir",
            str(state),
            "--sbsync-wait",
            "0.2,0.5",
            "--csv",
            str(tmp_path / "stats"),
            "--only-summary",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    verified = subprocess.run(
        [sys.executable, "manage.py", "loadtest_verify", "--host", hosts, "--state-dir", str(state)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert locust.returncode == 0, locust.stderr[-3000:]
    rows = (tmp_path / "stats_stats.csv").read_text().splitlines()
    aggregated = dict(zip(rows[0].split(","), rows[-1].split(","), strict=False))
    assert int(aggregated["Request Count"]) > 20 and aggregated["Failure Count"] == "0", rows
    saved = [json.loads(path.read_text()) for path in state.glob("*.json")]
    assert len(saved) == 8 and sum(len(s["expected"]) for s in saved) > 0
    assert verified.returncode == 0, verified.stderr
    assert "every replica equals the server" in verified.stdout
