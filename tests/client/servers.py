"""A real sbsync server for client tests: gunicorn running the demo's WSGI application on the test
database, in its own process group (so a test can SIGKILL the master and its worker at once)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
PORTS = range(8500, 8600)


def free_port() -> int:
    """A free port of this checkout's range (8500-8599)."""
    for port in PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 8500-8599")


class Server:
    def __init__(self, db_name: str, port: int | None = None):
        self.db_name = db_name
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log = Path(tempfile.gettempdir()) / f"sbsync-client-test-server-{self.port}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/sync/"

    def start(self) -> Server:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.client.server_settings",
            "SBSYNC_SERVER_DB_NAME": self.db_name,
        }
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "sbsync.demo.wsgi",
                    "-b",
                    f"127.0.0.1:{self.port}",
                    "-w",
                    "1",
                    "--threads",
                    "4",
                    "--timeout",
                    "60",
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.log.read_text()[-3000:]}")
            try:
                if httpx.get(self.url + "models/", timeout=2).status_code == 401:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer: {self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL the master and its worker: no graceful shutdown, requests cut wherever they are."""
        assert self.process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()
