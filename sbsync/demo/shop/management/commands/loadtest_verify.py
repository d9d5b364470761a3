"""``loadtest_verify``: after a load test, check that every simulated client converged
(sbsync/demo/loadtest/verify.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import requests
from django.core.management.base import BaseCommand, CommandError, CommandParser

from sbsync.demo.loadtest.client import ClientError
from sbsync.demo.loadtest.verify import load_states, verify


class Command(BaseCommand):
    help = (
        "After a Locust run (sbsync/demo/loadtest/locustfile.py), log in as each simulated client, bring "
        "its replica up to date and compare it with a fresh pull: equal replicas, every acknowledged write "
        "present, no duplicate. Exit status 1 when anything is off."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", required=True, help="base URL(s) of the servers, comma-separated")
        parser.add_argument("--path", default="/api/sync/", help="where sbsync.urls is served")
        parser.add_argument("--state-dir", required=True, help="the run's --sbsync-state-dir")

    def handle(self, *args: Any, **options: Any) -> None:
        directory = Path(options["state_dir"])
        states = load_states(directory) if directory.is_dir() else []
        if not states:
            raise CommandError(f"No client state (*.json) in {directory}.")
        urls = [host.rstrip("/") + options["path"] for host in options["host"].split(",") if host]
        try:
            report = verify(states, urls, requests.Session())
        except (ClientError, requests.RequestException) as exc:
            raise CommandError(f"The server could not be read: {exc}") from None
        for problem in report.problems:
            self.stderr.write(problem)
        summary = (
            f"{report.clients} clients, {report.acknowledged} acknowledged writes, "
            f"{report.rows} rows compared: "
        )
        if not report.ok:
            raise CommandError(summary + f"{len(report.problems)} problem(s).")
        self.stdout.write(summary + "every replica equals the server, no write lost, no duplicate.")
