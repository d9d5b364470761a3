"""``run_demo``: one command from a fresh checkout to a running demo (sbsync/docs/demo.md)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from argparse import ArgumentParser
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from sbsync.demo.shop.seed import PASSWORD

POLL_SECONDS = 0.5
GRACE_SECONDS = 10


class _Stop(Exception):
    """SIGTERM arrived: stop like Ctrl-C does."""


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop


def _port(value: str) -> int:
    number = int(value)
    if not 1 <= number <= 65535:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = (
        "Run the demo: migrate, seed_demo, then the Huey consumer (run_huey) beside the development web "
        "server. Ctrl-C or SIGTERM stops both; if either stops on its own, the other is stopped too."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--addr", default="127.0.0.1", help="address the web server listens on (default 127.0.0.1)"
        )
        parser.add_argument("--port", type=_port, default=8000, help="port of the web server (default 8000)")

    def handle(self, *args: Any, **options: Any) -> None:
        addr = options["addr"]
        addrport = (
            f"[{addr}]:{options['port']}"
            if ":" in addr and not addr.startswith("[")
            else f"{addr}:{options['port']}"
        )
        call_command(
            "migrate", interactive=False, verbosity=max(options["verbosity"] - 1, 0), stdout=self.stdout
        )
        call_command("seed_demo", stdout=self.stdout)

        # The children import the same settings; PYTHONPATH makes the checkout importable from any cwd.
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": settings.SETTINGS_MODULE}
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(settings.BASE_DIR), env.get("PYTHONPATH")) if p)
        django = [sys.executable, "-m", "django"]
        # Handle SIGINT even when started with it ignored (a background job of a script): children then
        # start with the default handler, not the ignored one, so SIGINT stops them too.
        previous = {
            signal.SIGINT: signal.signal(signal.SIGINT, signal.default_int_handler),
            signal.SIGTERM: signal.signal(signal.SIGTERM, _raise_stop),
        }
        children: dict[str, subprocess.Popen[bytes]] = {}
        try:
            # Own sessions: a terminal's Ctrl-C reaches only this process, which then stops each child
            # once (a second SIGINT would interrupt runserver's shutdown with a traceback).
            for name, command in (
                ("Huey consumer", ["run_huey"]),
                ("web server", ["runserver", "--noreload", addrport]),
            ):
                children[name] = subprocess.Popen([*django, *command], env=env, start_new_session=True)
                self.stdout.write(f"{name.capitalize()} started (pid {children[name].pid}).")
            self.stdout.write(
                self.style.SUCCESS(
                    f"Demo at http://{addrport}/ (admin: user admin, password {PASSWORD}). Ctrl-C stops it."
                )
            )
            self.stdout.flush()
            ended = self.supervise(children)
        except (KeyboardInterrupt, _Stop):
            ended = None
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)
            self.stop(children)
        if ended is not None:
            name, code = ended
            raise CommandError(f"The {name} stopped with exit code {code}; the demo was stopped.")
        self.stdout.write("Demo stopped.")

    def supervise(self, children: dict[str, subprocess.Popen[bytes]]) -> tuple[str, int]:
        """Wait until a child ends on its own; return its name and exit code. Ctrl-C (KeyboardInterrupt)
        and SIGTERM (_Stop) end the wait by raising."""
        while True:
            for name, process in children.items():
                if process.poll() is not None:
                    return name, process.returncode
            time.sleep(POLL_SECONDS)

    def stop(self, children: dict[str, subprocess.Popen[bytes]]) -> None:
        # SIGINT is Huey's graceful shutdown (running tasks finish) and stops runserver cleanly.
        for process in children.values():
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
        for name, process in children.items():
            try:
                process.wait(timeout=GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                self.stderr.write(f"The {name} did not stop within {GRACE_SECONDS} s; killing it.")
                process.kill()
                process.wait()
