"""Locust users that behave like the demo's roles (README, "Production", "Load test").

    locust -f sbsync/demo/loadtest/locustfile.py --headless -u 40 -r 4 -t 10m \\
        --host http://sync.example.com --sbsync-state-dir loadtest-state
    python manage.py loadtest_verify --host http://sync.example.com --state-dir loadtest-state

Each Locust user is one device of a demo user (the demo's data: ``manage.py seed_demo``): it logs in
once, pulls every model to the end, then repeatedly pushes a batch of creates, updates and deletes of
its own rows under a ``batch_id`` (retried with the same id on a lost answer, 429 or 502-504) and
pulls again. When the run stops, each user finishes an unanswered batch and saves its replica and the
writes the server acknowledged under ``--sbsync-state-dir``, for ``loadtest_verify``.

Options besides Locust's: ``--sbsync-hosts`` (several servers, requests alternate between them;
``--host`` otherwise), ``--sbsync-batch`` (records per push), ``--sbsync-pull-batch``, ``--sbsync-run``
(the run's name, in every row written), ``--sbsync-wait`` (seconds between rounds, min,max).
"""

from __future__ import annotations

import itertools
import json
import random
import time
from pathlib import Path
from typing import Any

from locust import HttpUser, between, events, task
from locust.argument_parser import LocustArgumentParser

from sbsync.demo.loadtest.client import ROLES, SyncClient

_numbers = itertools.count(1)


def _options(parser: LocustArgumentParser) -> None:
    parser.add_argument("--sbsync-hosts", default="", help="comma-separated base URLs (http://host:port)")
    parser.add_argument("--sbsync-path", default="/api/sync/", help="where sbsync.urls is served")
    parser.add_argument("--sbsync-batch", type=int, default=10, help="records per push")
    parser.add_argument("--sbsync-pull-batch", type=int, default=200, help="batch_size of a pull")
    parser.add_argument("--sbsync-run", default="", help="name of the run (default: the start time)")
    parser.add_argument(
        "--sbsync-state-dir", default="loadtest-state", help="where each user saves its state"
    )
    parser.add_argument("--sbsync-wait", default="0.5,2", help="seconds between rounds: min,max")


events.init_command_line_parser.add_listener(_options)  # type: ignore[no-untyped-call]  # locust does not type it


class Device(HttpUser):
    """One device of ``username``; subclasses name the demo user and how often it appears."""

    abstract = True
    username = ""
    run_name = ""

    def wait_time(self) -> float:
        low, high = (float(x) for x in self.environment.parsed_options.sbsync_wait.split(","))
        return between(low, high)(self)

    def on_start(self) -> None:
        options = self.environment.parsed_options
        hosts = [h for h in options.sbsync_hosts.split(",") if h] or [self.host or ""]
        if not Device.run_name:
            Device.run_name = options.sbsync_run or time.strftime("%Y%m%d%H%M%S")
        self.device = SyncClient(
            self.client,
            [host.rstrip("/") + options.sbsync_path for host in hosts],
            ROLES[self.username],
            run=Device.run_name,
            name=f"{self.username}-{next(_numbers)}",
            batch_size=options.sbsync_batch,
            pull_batch=options.sbsync_pull_batch,
            rng=random.Random(),
            named=True,
        )
        self.device.login()
        self.device.pull_to_end()

    @task
    def sync(self) -> None:
        self.device.step()

    def on_stop(self) -> None:
        device: SyncClient | None = getattr(self, "device", None)
        if device is None or device.token is None:
            return
        device.settle()
        directory = Path(self.environment.parsed_options.sbsync_state_dir)
        directory.mkdir(parents=True, exist_ok=True)
        state: dict[str, Any] = device.state()
        (directory / f"{device.run}-{device.name}.json").write_text(json.dumps(state))


class Manager(Device):
    username, weight = "john_manager", 3


class Support(Device):
    username, weight = "sue_support", 2


class SalesMary(Device):
    username, weight = "mary_sales", 2


class SalesTom(Device):
    username, weight = "tom_sales", 2


class Member(Device):
    username, weight = "una_user", 2


class Analyst(Device):
    username, weight = "bob_analyst", 1


class ReadOnly(Device):
    username, weight = "rita_readonly", 1


class Administrator(Device):
    username, weight = "admin", 1
