"""Drive simulated clients (sbsync/demo/loadtest/client.py) from threads, a bounded number of rounds
each, for the production tests."""

from __future__ import annotations

import random
import threading
import uuid
from collections import Counter

import requests

from sbsync.demo.loadtest.client import ROLES, SyncClient

WRITERS = ("john_manager", "sue_support", "mary_sales", "una_user", "bob_analyst", "admin")


def make_clients(
    urls: list[str], users=WRITERS, *, batch_size: int = 8, run: str | None = None
) -> list[SyncClient]:
    run = run or uuid.uuid4().hex[:8]
    return [
        SyncClient(
            requests.Session(),
            urls,
            ROLES[user],
            run=run,
            name=f"{user}-{n}",
            batch_size=batch_size,
            rng=random.Random(n),
        )
        for n, user in enumerate(users)
    ]


def drive(clients: list[SyncClient], rounds: int, stop: threading.Event | None = None) -> list[BaseException]:
    """Each client logs in, pulls, then runs ``rounds`` rounds (or until ``stop``), in its own thread;
    then every client pulls to the end. Returns the exceptions raised, if any."""
    errors: list[BaseException] = []

    def one(client: SyncClient) -> None:
        try:
            if client.token is None:
                client.login()
                client.pull_to_end()
            for _ in range(rounds):
                if stop is not None and stop.is_set():
                    break
                client.step()
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if not errors:
        for client in clients:
            client.pull_to_end()
    return errors


def statuses(clients: list[SyncClient]) -> Counter[int]:
    total: Counter[int] = Counter()
    for client in clients:
        total.update(client.stats.statuses)
    return total
