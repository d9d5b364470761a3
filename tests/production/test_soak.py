"""Soak: mixed load from Locust's users on both app servers for SBSYNC_SOAK_SECONDS (600 for the
README's figures), then the convergence check, latency percentiles per endpoint, throughput, errors
and the workers' memory at start and end. On demand only (it does not fit CI's time):

    SBSYNC_SOAK_SECONDS=600 DATABASE_URL=postgres://... pytest tests/production/test_soak.py -s

SBSYNC_SOAK_USERS sets the number of simulated devices (24); SBSYNC_SOAK_REPORT a file to write the
figures to (JSON) besides printing them."""

from __future__ import annotations

import csv
import json
import os
import platform
import subprocess
import sys
import time

import psutil
import pytest

from tests.production.cluster import ROOT

SECONDS = int(os.environ.get("SBSYNC_SOAK_SECONDS") or 0)
USERS = int(os.environ.get("SBSYNC_SOAK_USERS") or 24)
# A worker may grow by this much over the soak (caches, connection, allocator) and no more.
MEMORY_GROWTH_BOUND_MB = 50

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not SECONDS, reason="the soak runs on demand: SBSYNC_SOAK_SECONDS=600"),
]


def test_soak_two_servers_mixed_load(cluster, tmp_path):
    hosts = ",".join(url.removesuffix("/api/sync/") for url in cluster.urls)
    state = tmp_path / "state"
    memory_start = [mb for server in cluster.servers for mb in server.worker_memory_mb()]
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())

    locust = subprocess.run(
        [
            sys.executable, "-m", "locust", "-f", "sbsync/demo/loadtest/locustfile.py", "--headless",
            "-u", str(USERS), "-r", "1", "-t", f"{SECONDS}s", "--stop-timeout", "30",
            "--host", hosts.split(",")[0], "--sbsync-hosts", hosts, "--sbsync-state-dir", str(state),
            "--sbsync-wait", "0.2,1", "--csv", str(tmp_path / "soak"), "--only-summary",
        ],
        cwd=ROOT, env=cluster.deployment.env(), capture_output=True, text=True, timeout=SECONDS + 300,
    )  # fmt: skip
    memory_end = [mb for server in cluster.servers for mb in server.worker_memory_mb()]
    verified = subprocess.run(
        [sys.executable, "manage.py", "loadtest_verify", "--host", hosts, "--state-dir", str(state)],
        cwd=ROOT, env=cluster.deployment.env(), capture_output=True, text=True, timeout=600,
    )  # fmt: skip

    with (tmp_path / "soak_stats.csv").open() as stats:
        rows = list(csv.DictReader(stats))
    endpoints = {
        row["Name"]: {
            "requests": int(row["Request Count"]),
            "failures": int(row["Failure Count"]),
            "p50_ms": row["50%"],
            "p95_ms": row["95%"],
            "p99_ms": row["99%"],
            "per_second": round(float(row["Requests/s"]), 1),
        }
        for row in rows
    }
    with (tmp_path / "soak_failures.csv").open() as failures:
        errors = list(csv.DictReader(failures))
    figures = {
        "date": started,
        "machine": f"{platform.node()}: {psutil.cpu_count()} cores, "
        f"{psutil.virtual_memory().total / 2**30:.1f} GB, {platform.platform()}",
        "seconds": SECONDS,
        "users": USERS,
        "servers": f"2 gunicorn x {len(cluster.servers[0].worker_pids())} workers, 1 Huey consumer",
        "endpoints": endpoints,
        "errors": errors,
        "worker_memory_mb_start": [round(mb, 1) for mb in memory_start],
        "worker_memory_mb_end": [round(mb, 1) for mb in memory_end],
        "verify": verified.stdout.strip() or verified.stderr.strip(),
    }
    print(json.dumps(figures, indent=2))
    if os.environ.get("SBSYNC_SOAK_REPORT"):
        with open(os.environ["SBSYNC_SOAK_REPORT"], "w") as report:
            json.dump(figures, report, indent=2)

    assert locust.returncode == 0, locust.stderr[-3000:]
    assert errors == []
    assert endpoints["Aggregated"]["failures"] == 0
    assert verified.returncode == 0, verified.stderr
    for start, end in zip(memory_start, memory_end, strict=True):
        assert end - start <= MEMORY_GROWTH_BOUND_MB
