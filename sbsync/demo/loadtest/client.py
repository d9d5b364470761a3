"""A simulated sbsync client, as a device of one of the demo's roles runs it.

It logs in once, pulls every model to the end into a local replica, pushes batches of creates, updates
and deletes of rows it owns (each batch with a ``batch_id``), retries a batch that got no answer or a
retryable error (connection lost, 429, 502/503/504) with the same ``batch_id``, and pulls again. It
remembers every write the server acknowledged, so ``verify.py`` can check afterwards that the server
holds each of them once and that the replica equals what the server shows the user.

It needs only a ``requests.Session`` (Locust's ``HttpSession`` is one), so it runs in Locust, in tests
and in a plain script alike. Rows a client writes carry its marker (``lt-<run>-<client>-<n>``) in a
text field: a customer's ``name``, a report's ``results``.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

PULL_MODELS = ("shop.Customer", "shop.Order", "shop.Report", "shop.Product")
MARKER_FIELD = {"shop.Customer": "name", "shop.Report": "results"}
RETRYABLE = frozenset({429, 502, 503, 504})
PASSWORD = "sbsync-demo"


@dataclass(frozen=True)
class Role:
    """What a demo user may do (sbsync/docs/demo.md): the models it creates, whether it deletes."""

    username: str
    creates: tuple[str, ...]
    deletes: bool = False
    organization: str | None = None
    assigns_self: bool = False  # Sales sees only customers assigned to it


ROLES: dict[str, Role] = {
    role.username: role
    for role in (
        Role("john_manager", ("shop.Customer", "shop.Report")),
        Role("sue_support", ("shop.Customer",)),
        Role("mary_sales", ("shop.Customer",), assigns_self=True),
        Role("tom_sales", ("shop.Customer",), assigns_self=True),
        Role("una_user", ("shop.Customer", "shop.Report")),
        Role("bob_analyst", ("shop.Report",)),
        Role("rita_readonly", ()),
        Role("admin", ("shop.Customer", "shop.Report"), deletes=True, organization="acme-corp"),
    )
}


class ClientError(Exception):
    """An answer the client cannot go on after (a 4xx, or retries exhausted)."""


@dataclass
class Stats:
    requests: int = 0
    retries: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    transport_errors: int = 0
    conflicts: int = 0
    rejected: int = 0
    not_json: int = 0  # error answers that were not the protocol's JSON error shape

    def count(self, status: int) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1


def _is_error_shape(answer: requests.Response) -> bool:
    try:
        body = answer.json()
    except ValueError:
        return False
    return isinstance(body, dict) and isinstance(body.get("error"), str)


def record_key(record: dict[str, Any]) -> str:
    return f"{record['_model']}:{record['id']}"


class SyncClient:
    """One device. ``url`` is where ``sbsync.urls`` is served (``http://host/api/sync/``);
    ``urls`` may list several servers behind which the same database sits: requests alternate."""

    def __init__(
        self,
        session: requests.Session,
        urls: list[str],
        role: Role,
        *,
        run: str,
        name: str,
        batch_size: int = 10,
        pull_batch: int = 200,
        max_attempts: int = 30,
        timeout: float = 30,
        rng: random.Random | None = None,
        sleep: Callable[[float], None] = time.sleep,
        named: bool = False,
    ) -> None:
        self.session, self.urls, self.role = session, [u.rstrip("/") + "/" for u in urls], role
        self.run, self.name, self.batch_size, self.pull_batch = run, name, batch_size, pull_batch
        self.max_attempts, self.timeout = max_attempts, timeout
        self.rng, self.sleep = rng or random.Random(), sleep
        self.named = named  # Locust's session takes a request name, so both servers count as one endpoint
        self.stats = Stats()
        self.token: str | None = None
        self.user_id: int | None = None
        self.replica: dict[str, dict[str, Any]] = {}
        self.cursors: dict[str, str | None] = dict.fromkeys(PULL_MODELS)
        # Acknowledged state of the rows this client wrote: key -> fields it last wrote, None = deleted.
        self.expected: dict[str, dict[str, Any] | None] = {}
        self.versions: dict[str, int] = {}
        self.created: list[str] = []  # markers of every acknowledged create
        self.serial = 0
        self.batches = 0
        self.pending: dict[str, Any] | None = None  # a batch sent and not yet answered
        self._turn = 0

    # --- transport -------------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        self._turn += 1
        return self.urls[self._turn % len(self.urls)] + path

    def _headers(self) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        if self.role.organization:
            headers["X-Sync-Organization"] = self.role.organization
        return headers

    def call(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST ``body``; retry the very same body on a lost connection or a retryable status."""
        for attempt in range(1, self.max_attempts + 1):
            self.stats.requests += 1
            extra: dict[str, Any] = {"name": path} if self.named else {}
            try:
                answer = self.session.post(
                    self._url(path), json=body, headers=self._headers(), timeout=self.timeout, **extra
                )
            except requests.RequestException:
                self.stats.transport_errors += 1
                answer = None
            if answer is not None:
                self.stats.count(answer.status_code)
                if answer.status_code >= 400 and not _is_error_shape(answer):
                    self.stats.not_json += 1
                if answer.status_code < 400:
                    return answer.json()  # type: ignore[no-any-return]
                if answer.status_code not in RETRYABLE:
                    raise ClientError(f"{path} answered {answer.status_code}: {answer.text[:300]}")
            if attempt < self.max_attempts:
                self.stats.retries += 1
                self.sleep(min(0.1 * 2**attempt, 2.0))
        raise ClientError(f"{path}: no answer after {self.max_attempts} attempts")

    # --- the protocol ----------------------------------------------------------------------------

    def login(self) -> None:
        answer = self.call("auth/token/", {"username": self.role.username, "password": PASSWORD})
        self.token, self.user_id = answer["token"], answer["user"]["id"]

    def pull_to_end(self, limit: int = 10_000) -> int:
        """Pull every model until nothing is left; returns the number of pages."""
        for pages in range(1, limit + 1):
            page = self.call("pull/", {"models": self.cursors, "batch_size": self.pull_batch})
            for record in page["data"]:
                key = record_key(record)
                self.replica[key] = record
                self.versions[key] = record["_version"]
            for record in page["deleted"]:
                self.replica.pop(record_key(record), None)
            for label, meta in page["metadata"].items():
                self.cursors[label] = meta["cursor"]
            if not page["batch_info"]["has_more"]:
                return pages
        raise ClientError(f"still has_more after {limit} pulls")

    def push(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        """Push one batch under a fresh batch_id (retried with the same id) and remember what was
        acknowledged."""
        self.batches += 1
        self.pending = {"data": records, "batch_id": f"{self.run}:{self.name}:{self.batches}"}
        return self.settle()

    def settle(self) -> dict[str, Any]:
        """Send the unanswered batch (again, under its batch_id) until it is answered; what was
        acknowledged is remembered. A run stopped in the middle of a push calls it before saving."""
        if self.pending is None:
            return {}
        answer = self.call("push/", self.pending)
        records, self.pending = self.pending["data"], None
        for sent, result in zip(records, answer["results"], strict=True):
            status = result["status"]
            if status in ("created", "updated"):
                key = f"{sent['_model']}:{result['id']}"
                fields = {k: v for k, v in sent.items() if not k.startswith("_") and k != "id"}
                self.expected[key] = {**(self.expected.get(key) or {}), **fields}
                self.versions[key] = result["_version"]
                if status == "created":
                    self.created.append(sent[MARKER_FIELD[sent["_model"]]])
            elif status == "deleted":
                key = f"{sent['_model']}:{result['id']}"
                self.expected[key] = None
                # Reports of a deleted customer go with it (on_delete=CASCADE).
                for other, written in self.expected.items():
                    if written and written.get("customer") == sent["id"]:
                        self.expected[other] = None
            elif status == "conflict":
                self.stats.conflicts += 1
            elif status in ("rejected", "forbidden"):
                self.stats.rejected += 1
        return answer

    # --- behaviour -------------------------------------------------------------------------------

    def marker(self) -> str:
        self.serial += 1
        return f"lt-{self.run}-{self.name}-{self.serial}"

    def _own(self, label: str) -> list[str]:
        prefix = f"{label}:"
        return [key for key, fields in self.expected.items() if key.startswith(prefix) and fields]

    def _seeded_customers(self) -> list[str]:
        """Customers in view that no load client wrote: nobody deletes them during a run."""
        return [
            record["id"]
            for key, record in self.replica.items()
            if key.startswith("shop.Customer:") and not str(record["name"]).startswith("lt-")
        ]

    def next_batch(self) -> list[dict[str, Any]]:
        """About half creates, a third updates, the rest deletes (for roles that may delete)."""
        records: list[dict[str, Any]] = []
        own_customers = self._own("shop.Customer")
        touched: set[str] = set()
        for _ in range(self.batch_size):
            roll = self.rng.random()
            if self.role.deletes and roll > 0.85 and own_customers:
                key = own_customers.pop(self.rng.randrange(len(own_customers)))
                if key not in touched:
                    touched.add(key)
                    records.append({"_model": "shop.Customer", "id": key.split(":", 1)[1], "_deleted": True})
            elif roll > 0.55 and own_customers:
                key = self.rng.choice(own_customers)
                if key not in touched:
                    touched.add(key)
                    records.append(
                        {
                            "_model": "shop.Customer",
                            "id": key.split(":", 1)[1],
                            "age": self.rng.randrange(18, 90),
                            "_version": self.versions[key],
                        }
                    )
            elif self.role.creates:
                records.append(self.new_record(self.rng.choice(self.role.creates)))
        return [record for record in records if record]

    def new_record(self, label: str) -> dict[str, Any]:
        """A create of ``label`` carrying a new marker ({} for a report when no customer is in view)."""
        if label == "shop.Customer":
            record: dict[str, Any] = {
                "_model": label,
                "id": str(uuid.uuid4()),
                "name": self.marker(),
                "department": self.rng.choice(["SALES", "SUPPORT", "FINANCE"]),
            }
            if self.role.assigns_self:
                record["assigned_manager"] = self.user_id
            return record
        customers = [key.split(":", 1)[1] for key in self._own("shop.Customer")] or self._seeded_customers()
        if not customers:
            return {}
        return {
            "_model": label,
            "customer": self.rng.choice(customers),
            "report_type": self.rng.choice(["ANALYSIS", "SUMMARY", "AUDIT"]),
            "results": self.marker(),
        }

    def step(self) -> None:
        """One round of a device: push a batch (if the role writes), then pull to the end."""
        batch = self.next_batch() if self.role.creates else []
        if batch:
            self.push(batch)
        self.pull_to_end()

    def state(self) -> dict[str, Any]:
        """What ``verify.py`` needs, JSON-ready."""
        return {
            "username": self.role.username,
            "organization": self.role.organization,
            "name": self.name,
            "run": self.run,
            "replica": self.replica,
            "cursors": self.cursors,
            "batches": self.batches,
            "pending": self.pending,
            "serial": self.serial,
            "expected": self.expected,
            "created": self.created,
            "stats": {
                "requests": self.stats.requests,
                "retries": self.stats.retries,
                "statuses": {str(k): v for k, v in self.stats.statuses.items()},
                "transport_errors": self.stats.transport_errors,
                "conflicts": self.stats.conflicts,
                "rejected": self.stats.rejected,
                "not_json": self.stats.not_json,
            },
        }

    @classmethod
    def from_state(
        cls, session: requests.Session, urls: list[str], state: dict[str, Any], **options: Any
    ) -> SyncClient:
        """The client a ``state()`` was taken of, ready to log in and carry on."""
        role = ROLES[state["username"]]
        if state.get("organization") != role.organization:
            role = Role(role.username, role.creates, role.deletes, state["organization"], role.assigns_self)
        client = cls(session, urls, role, run=state["run"], name=state["name"], **options)
        client.replica, client.cursors = state["replica"], state["cursors"]
        client.expected, client.created = state["expected"], state["created"]
        client.batches, client.serial = state["batches"], state["serial"]
        client.pending = state.get("pending")
        return client
