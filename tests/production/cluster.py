"""A small production deployment for tests, on private services the tests may stop and restart:
PostgreSQL 15 (``initdb`` into a temporary directory), Redis, PgBouncer in transaction pooling, gunicorn
app servers and a Huey consumer, all run with the demo's production settings (``sbsync.demo.settings``
with DATABASE_URL, REDIS_URL, DEBUG=0), never the shared services of the machine.

Ports come from ``SBSYNC_TEST_PORTS`` (``pg,redis,pgbouncer,app``; by default 55432, 6390, 6432 and
8800): the first free port at or above each is used.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import psycopg
import requests

ROOT = Path(__file__).resolve().parents[2]


def _pg_bin() -> Path:
    """SBSYNC_PG_BIN, else the newest of Debian's /usr/lib/postgresql/<version>/bin."""
    if os.environ.get("SBSYNC_PG_BIN"):
        return Path(os.environ["SBSYNC_PG_BIN"])
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    return versions[-1] if versions else Path("/usr/lib/postgresql/15/bin")


PG_BIN = _pg_bin()
FAKETIME_LIB = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1")
DEFAULT_PORTS = {"pg": 55432, "redis": 6390, "pgbouncer": 6432, "app": 8800}


def _configured_ports() -> dict[str, int]:
    raw = os.environ.get("SBSYNC_TEST_PORTS")
    if not raw:
        return dict(DEFAULT_PORTS)
    return dict(zip(DEFAULT_PORTS, (int(p) for p in raw.split(",")), strict=True))


_taken: set[int] = set()


def free_port(kind: str) -> int:
    """The first port at or above the configured one for ``kind`` that nothing listens on."""
    start = _configured_ports()[kind]
    for port in range(start, start + 100):
        if port in _taken:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        _taken.add(port)
        return port
    raise RuntimeError(f"no free {kind} port in {start}-{start + 99}")


def hand_to_postgres(directory: Path) -> None:
    """As root, give ``directory`` to the ``postgres`` user and let it through the parents."""
    if os.geteuid() != 0:
        return
    shutil.chown(directory, "postgres")
    for parent in directory.parents:
        if parent == Path(tempfile.gettempdir()) or parent == parent.parent:
            break
        parent.chmod(parent.stat().st_mode | 0o011)


def as_postgres(command: list[str]) -> list[str]:
    """PostgreSQL and PgBouncer refuse to run as root: run them as the ``postgres`` user then."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def wait_for(check, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:  # noqa: S110 - not up yet
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not come up within {timeout} s")


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


class PostgresServer:
    """A private PostgreSQL cluster; ``restart()`` is a real server restart."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.data = directory / "pgdata"
        self.port = free_port("pg")
        self.log = directory / "postgres.log"
        hand_to_postgres(directory)
        subprocess.run(
            as_postgres(
                [str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]
            ),
            check=True,
            capture_output=True,
        )

    def _ctl(self, *args: str) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        subprocess.run(
            as_postgres(
                [
                    str(PG_BIN / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-l",
                    str(self.log),
                    "-o",
                    options,
                    "-w",
                    *args,
                ]
            ),
            check=True,
            capture_output=True,
        )

    def start(self) -> None:
        self._ctl("start")

    def stop(self) -> None:
        self._ctl("stop", "-m", "fast")

    def restart(self) -> None:
        self._ctl("restart", "-m", "fast")

    def url(self, port: int | None = None, name: str = "sbsync") -> str:
        return f"postgres://postgres@127.0.0.1:{port or self.port}/{name}"

    def createdb(self, name: str) -> None:
        subprocess.run(
            [str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name],
            check=True,
            capture_output=True,
        )

    def connect(self, name: str = "sbsync") -> psycopg.Connection:
        return psycopg.connect(self.url(name=name), autocommit=True)

    def sql(self, statement: str, name: str = "sbsync") -> str:
        done = subprocess.run(
            [
                str(PG_BIN / "psql"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                name,
                "-At",
                "-c",
                statement,
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        return done.stdout.strip()


class RedisServer:
    """A private Redis with an append-only file, so a stop and start keeps the queued tasks, as a
    production Redis holding a task queue must."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port("redis")
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: port_open(self.port), "redis")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()  # SIGTERM: Redis flushes its append-only file and exits
            self.process.wait(30)

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"


class PgBouncer:
    """Debian's PgBouncer in transaction pooling mode in front of ``postgres``."""

    def __init__(self, directory: Path, postgres: PostgresServer) -> None:
        self.directory = directory
        self.port = free_port("pgbouncer")
        (directory / "userlist.txt").write_text('"postgres" ""\n')
        (directory / "pgbouncer.ini").write_text(
            "[databases]\n"
            f"* = host=127.0.0.1 port={postgres.port}\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {self.port}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {directory / 'userlist.txt'}\n"
            "pool_mode = transaction\nmax_client_conn = 500\ndefault_pool_size = 8\n"
            "server_reset_query =\nignore_startup_parameters = extra_float_digits,options\n"
            f"logfile = {directory / 'pgbouncer.log'}\n"
        )
        hand_to_postgres(directory)
        for path in directory.iterdir():
            hand_to_postgres(path)
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            as_postgres(["/usr/sbin/pgbouncer", str(self.directory / "pgbouncer.ini")]),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: port_open(self.port), "pgbouncer")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(30)


@dataclass
class Deployment:
    """The environment of the app servers and the consumer: the demo's settings in production mode."""

    directory: Path
    database_url: str
    redis_url: str
    huey_name: str = "sbsync-production-tests"
    extra: dict[str, str] = field(default_factory=dict)

    def env(self, **more: str) -> dict[str, str]:
        return {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SBSYNC_TEST"))},
            "DJANGO_SETTINGS_MODULE": "sbsync.demo.settings",
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "HUEY_NAME": self.huey_name,
            "DEBUG": "0",
            "SECRET_KEY": "production-tests-secret-key-not-for-real-use-0123456789",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SBSYNC_DATA_DIR": str(self.directory / "data"),
            "PYTHONUNBUFFERED": "1",
            **self.extra,
            **more,
        }

    def manage(self, *args: str, timeout: float = 300) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout


class AppServer:
    """gunicorn serving the demo with several worker processes."""

    def __init__(
        self,
        deployment: Deployment,
        name: str,
        *,
        workers: int = 2,
        env: dict[str, str] | None = None,
        options: list[str] | None = None,
    ):
        self.deployment, self.name, self.workers = deployment, name, workers
        self.options = options or []
        self.port = free_port("app")
        self.extra = env or {}
        self.log = deployment.directory / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/sync/"

    def start(self) -> None:
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "sbsync.demo.wsgi",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.workers),
            "--timeout",
            "60",
            "--graceful-timeout",
            "5",
            "--log-level",
            "warning",
            *self.options,
        ]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=self.deployment.env(**self.extra), stdout=log, stderr=log
            )
        wait_for(lambda: requests.get(self.url + "health/", timeout=5).status_code in (200, 503), self.name)
        wait_for(lambda: len(self.worker_pids()) == self.workers, f"{self.name} workers")

    def worker_pids(self) -> list[int]:
        assert self.process is not None
        return [child.pid for child in psutil.Process(self.process.pid).children()]

    def worker_memory_mb(self) -> list[float]:
        return [psutil.Process(pid).memory_info().rss / 2**20 for pid in self.worker_pids()]

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log_text(self, since: int = 0) -> str:
        """The server's log, from byte ``since`` (a ``log_size()`` taken earlier) on."""
        with self.log.open("rb") as log:
            log.seek(since)
            return log.read().decode(errors="replace")

    def log_size(self) -> int:
        return self.log.stat().st_size


class Consumer:
    """``manage.py run_huey``: the one consumer of the deployment's queue."""

    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment
        self.log = deployment.directory / "consumer.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "run_huey", "--workers", "2"],
                cwd=ROOT,
                env=self.deployment.env(),
                stdout=log,
                stderr=log,
            )
        wait_for(lambda: "consumer" in self.log.read_text(errors="replace").lower(), "the Huey consumer")

    def kill(self) -> None:
        """SIGKILL: no graceful shutdown, whatever it was running is cut off."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")
