"""The benchmark's servers: gunicorn started on the benchmark's settings (``settings.py``), and a sampler
of the server's process tree (peak resident memory of its largest process, CPU time of all of them)."""

from __future__ import annotations

import http.client
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psutil
from django.conf import settings
from django.db import connections

from sbsync.benchmark.workload import BenchmarkError

SAMPLE_SECONDS = 0.02
SETTINGS_MODULE = "sbsync.benchmark.settings"


class ServerSampler(threading.Thread):
    """Samples the resident memory of a server process tree; the figure is its largest process (the
    worker that runs the requests). ``cpu_seconds()`` is the CPU time the tree has used so far."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.window_peak = 0.0
        self.peak = 0.0
        self.stopped = threading.Event()

    def processes(self) -> list[psutil.Process]:
        return [self.root, *self.root.children(recursive=True)]

    def sample(self) -> float:
        largest = 0
        for process in self.processes():
            try:
                largest = max(largest, process.memory_info().rss)
            except psutil.Error:
                continue
        return largest / (1024 * 1024)

    def cpu_seconds(self) -> float:
        total = 0.0
        for process in self.processes():
            try:
                times = process.cpu_times()
            except psutil.Error:
                continue
            total += times.user + times.system
        return total

    def run(self) -> None:
        while not self.stopped.wait(SAMPLE_SECONDS):
            megabytes = self.sample()
            self.window_peak = max(self.window_peak, megabytes)
            self.peak = max(self.peak, megabytes)

    def new_window(self) -> float:
        """Start a new measuring window; returns the peak of the one that ends."""
        ended, self.window_peak = self.window_peak, self.sample()
        return ended


def _environment(*, history: bool = True) -> dict[str, str]:
    """This process's environment for a server or command on the benchmark's settings: DEBUG off, the
    per-token request throttle off (REQUEST_THROTTLE_RATE="", read by the demo settings), history
    recording on or off (SBSYNC_BENCHMARK_HISTORY, read by settings.py)."""
    return {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
        "REQUEST_THROTTLE_RATE": "",
        "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
        "SBSYNC_BENCHMARK_BASE_SETTINGS": settings.SETTINGS_MODULE,
        "SBSYNC_BENCHMARK_HISTORY": "1" if history else "0",
        "PYTHONPATH": os.pathsep.join(filter(None, [os.getcwd(), os.environ.get("PYTHONPATH")])),
    }


def migrate_baseline() -> None:
    """Create (or bring up to date) the bare baseline's table in the configured database."""
    command = [sys.executable, "-m", "django", "migrate", "bench_bare", "--noinput", "-v", "0"]
    done = subprocess.run(command, env=_environment(), capture_output=True, check=False)
    if done.returncode:
        raise BenchmarkError(
            f"Migrating the baseline's table failed:\n{done.stderr.decode(errors='replace')[-2000:]}"
        )


@contextmanager
def started_server(port: int, workers: int, *, history: bool = True) -> Iterator[subprocess.Popen[bytes]]:
    """gunicorn with ``workers`` sync worker processes on ``port``, with this process's environment and
    settings plus the bare baseline (``settings.py``); ``history=False`` turns simple-history's recording
    off (``SIMPLE_HISTORY_ENABLED``). Stopped when the block ends."""
    for alias in connections:
        connections[alias].close()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "sbsync.benchmark.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--timeout",
        "600",
        "--log-level",
        "warning",
    ]
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(command, env=_environment(history=history), stdout=log, stderr=log)
        try:
            _wait_until_up(server, port, log)
            yield server
        finally:
            server.terminate()
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def _wait_until_up(server: subprocess.Popen[bytes], port: int, log: Any) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            log.seek(0)
            raise BenchmarkError(
                f"The server stopped at start-up:\n{log.read().decode(errors='replace')[-2000:]}"
            )
        try:
            probe = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            probe.request("GET", "/bench-bare/models/")
            probe.getresponse().read()
            probe.close()
            return
        except OSError:
            time.sleep(0.2)
    raise BenchmarkError("The server did not answer within 60 seconds.")
