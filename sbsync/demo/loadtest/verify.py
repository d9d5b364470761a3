"""Did every simulated client converge? (``manage.py loadtest_verify``; README, "Production".)

For each client state saved after a run: log in as its user, carry its replica on from its own cursors
to the end (incremental sync, as the device would), then pull everything afresh from ``null``, and
check that

* the replica equals the fresh pull, row for row and version for version (convergence);
* every write the server acknowledged is there in its acknowledged state, every acknowledged delete is
  gone (no lost write);
* each of the client's markers appears on exactly one row, and only markers of acknowledged creates
  appear (no duplicate, no write applied twice or applied without an answer).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from sbsync.demo.loadtest.client import MARKER_FIELD, SyncClient

SHOWN = 5


@dataclass
class Report:
    clients: int = 0
    rows: int = 0
    acknowledged: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def load_states(directory: Path) -> list[dict[str, Any]]:
    return [json.loads(path.read_text()) for path in sorted(directory.glob("*.json"))]


def verify_client(state: dict[str, Any], urls: list[str], session: requests.Session) -> tuple[int, list[str]]:
    """Rows in the user's view and the problems found for one client."""
    who = f"{state['name']} ({state['username']})"
    client = SyncClient.from_state(session, urls, state)
    client.login()
    client.settle()
    client.pull_to_end()
    fresh = SyncClient.from_state(
        session, urls, {**state, "replica": {}, "cursors": dict.fromkeys(client.cursors)}
    )
    fresh.login()
    fresh.pull_to_end()
    server = fresh.replica
    problems = []

    missing = sorted(set(server) - set(client.replica))
    extra = sorted(set(client.replica) - set(server))
    stale = sorted(k for k in set(server) & set(client.replica) if server[k] != client.replica[k])
    for what, keys in (("missing from", missing), ("only in", extra), ("different in", stale)):
        if keys:
            problems.append(f"{who}: {len(keys)} row(s) {what} the replica, e.g. {keys[:SHOWN]}")

    for key, fields in client.expected.items():
        row = server.get(key)
        if fields is None and row is not None:
            problems.append(f"{who}: acknowledged delete of {key} is not applied")
        elif fields is not None and row is None:
            problems.append(f"{who}: acknowledged write of {key} is lost")
        elif fields is not None and row is not None:
            wrong = {name: (value, row.get(name)) for name, value in fields.items() if row.get(name) != value}
            if wrong:
                problems.append(f"{who}: {key} differs from its acknowledged write: {wrong}")

    prefix = f"lt-{state['run']}-{state['name']}-"
    markers = Counter(
        str(row.get(MARKER_FIELD[row["_model"]]))
        for row in server.values()
        if row["_model"] in MARKER_FIELD and str(row.get(MARKER_FIELD[row["_model"]])).startswith(prefix)
    )
    duplicates = sorted(marker for marker, count in markers.items() if count > 1)
    if duplicates:
        problems.append(f"{who}: {len(duplicates)} duplicated row(s), e.g. {duplicates[:SHOWN]}")
    unacknowledged = sorted(set(markers) - set(client.created))
    if unacknowledged:
        problems.append(
            f"{who}: {len(unacknowledged)} row(s) never acknowledged, e.g. {unacknowledged[:SHOWN]}"
        )
    return len(server), problems


def verify(
    states: Iterable[dict[str, Any]], urls: list[str], session: requests.Session | None = None
) -> Report:
    session = session or requests.Session()
    report = Report()
    for state in states:
        rows, problems = verify_client(state, urls, session)
        report.clients += 1
        report.rows += rows
        report.acknowledged += len(state["expected"])
        report.problems.extend(problems)
    return report
