"""The benchmark's client side: a push/pull workload of N records through the HTTP API of a server,
timed per phase, with the server's memory, CPU time and SQL statements measured per phase.

Phases: *create* (N new records pushed in batches), *update* (each record pushed again with a changed
text field and the ``_version`` it got), *pull* (from ``null`` to the end, ``batch_size`` = the batch),
and a *count check* (every written row pulled, in its latest state, the right number of times).

Records are generated from the model's description in ``models/`` (its required fields and the first
free text field), so any tenant model whose required fields are plain values can be measured. With
``seed_rows`` the rows are written directly with the ORM instead (``--seed-direct``), to measure pull
alone. Several workloads (one per client) run each phase together, in threads.
"""

from __future__ import annotations

import http.client
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import orjson
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from sbsync import discovery
from sbsync.enums import Action
from sbsync.models import DataFilter, Membership, ModelPermission, Organization
from sbsync.sync.changes.index import batched, ensure_backfilled, stamp_pending
from sbsync.sync.changes.tracking import mark_changed

if TYPE_CHECKING:
    from sbsync.benchmark.servers import ServerSampler

INTEGER_TYPES = {
    "IntegerField",
    "SmallIntegerField",
    "BigIntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "PositiveBigIntegerField",
}
TEXT_TYPES = {"CharField", "TextField", "SlugField"}
SEED_CHUNK = 1000
STATEMENTS_HEADER = "X-Benchmark-Statements"


class BenchmarkError(Exception):
    """The workload cannot run or its result is wrong; the message says why."""


@dataclass
class Phase:
    name: str
    records: int
    seconds: float
    peak_mb: float | None = None
    cpu_seconds: float | None = None
    requests: int = 0
    statements: int | None = None

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0

    @property
    def cpu_per_thousand(self) -> float | None:
        """Server CPU seconds per 1,000 records."""
        if self.cpu_seconds is None or not self.records:
            return None
        return self.cpu_seconds * 1000 / self.records

    @property
    def statements_per_request(self) -> float | None:
        if self.statements is None or not self.requests:
            return None
        return self.statements / self.requests


@dataclass
class Outcome:
    phases: list[Phase] = field(default_factory=list)
    pulled: int = 0
    distinct: int = 0
    expected: int = 0
    missing: int = 0
    stale: int = 0
    exact: bool = True
    throttled_seconds: float = 0.0
    baseline_mb: float | None = None
    peak_mb: float | None = None
    first_page_seconds: float = 0.0

    @property
    def count_ok(self) -> bool:
        """Every written row pulled once in its latest state; in a fresh organization, nothing else."""
        complete = self.pulled == self.distinct and not self.missing and not self.stale
        return complete and (self.distinct == self.expected or not self.exact)

    def phase(self, name: str) -> Phase | None:
        return next((p for p in self.phases if p.name == name), None)


class ApiClient:
    """JSON over one keep-alive HTTP connection; waits out 429s and counts the time waited, the requests
    made and the SQL statements the server reported for them (``X-Benchmark-Statements``, sent by the
    benchmark's own servers)."""

    def __init__(self, base_url: str, organization: str | None = None) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise BenchmarkError(
                f"{base_url!r} is not an http(s) URL of the API (e.g. http://127.0.0.1:8000/api/sync/)."
            )
        connection_class = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        self.connection = connection_class(parts.hostname, parts.port, timeout=600)
        self.prefix = parts.path.rstrip("/") + "/"
        self.organization = organization
        self.token: str | None = None
        self.throttled_seconds = 0.0
        self.requests = 0
        self.statements: int | None = None

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.organization:
            headers["X-Sync-Organization"] = self.organization
        payload = orjson.dumps(body) if body is not None else None
        while True:
            try:
                self.connection.request(method, self.prefix + path, body=payload, headers=headers)
                response = self.connection.getresponse()
                raw = response.read()
            except (OSError, http.client.HTTPException) as exc:
                raise BenchmarkError(f"{method} {self.prefix}{path} failed: {exc}") from exc
            self.requests += 1
            counted = response.getheader(STATEMENTS_HEADER)
            if counted is not None:
                self.statements = (self.statements or 0) + int(counted)
            if response.status != 429:
                return response.status, orjson.loads(raw) if raw else None
            wait = int(response.getheader("Retry-After") or "1")
            self.throttled_seconds += wait
            time.sleep(wait)

    def expect(self, method: str, path: str, body: Any = None) -> Any:
        status, answer = self.call(method, path, body)
        if status != 200:
            raise BenchmarkError(f"{method} {path} answered {status}: {answer}")
        return answer

    def close(self) -> None:
        self.connection.close()

    def login(self, username: str, password: str) -> None:
        self.token = self.expect("POST", "auth/token/", {"username": username, "password": password})["token"]


class RecordMaker:
    """Generates valid records of one model from its ``models/`` description."""

    def __init__(self, description: dict[str, Any]) -> None:
        self.label = description["model"]
        self.pk = description["pk"]
        fields = {f["name"]: f for f in description["fields"]}
        self.client_keys = fields[self.pk]["type"] == "UUIDField"
        self.required = [
            f
            for f in description["fields"]
            if f["required"] and not f["read_only"] and not f.get("primary_key")
        ]
        free_text = [
            f
            for f in description["fields"]
            if f["type"] in TEXT_TYPES
            and not f["read_only"]
            and not f.get("choices")
            and not f.get("primary_key")
        ]
        if not free_text:
            raise BenchmarkError(
                f"{self.label} has no free text field for the update phase; choose another --model."
            )
        self.text = free_text[0]
        for spec in self.required:
            self.value(spec, 0)

    def value(self, spec: dict[str, Any], n: int) -> Any:
        kind = spec["type"]
        if spec.get("choices"):
            return spec["choices"][0]
        if kind in TEXT_TYPES:
            return f"bench {n}"[: spec.get("max_length") or None]
        if kind == "EmailField":
            return f"bench{n}@example.test"
        if kind in INTEGER_TYPES:
            return n % 30000
        simple = {
            "DecimalField": "1",
            "FloatField": 1.5,
            "BooleanField": True,
            "DateField": "2024-01-01",
            "DateTimeField": "2024-01-01T00:00:00Z",
            "TimeField": "12:00:00",
            "JSONField": {},
        }
        if kind in simple:
            return simple[kind]
        if kind == "UUIDField":
            return str(uuid.uuid4())
        raise BenchmarkError(
            f"Cannot generate a value for the required field {spec['name']} ({kind}) of {self.label}; choose another --model."
        )

    def text_of(self, n: int, updated: bool) -> str:
        text = f"bench {n} updated" if updated else f"bench {n}"
        return text[: self.text.get("max_length") or None]

    def create(self, n: int) -> dict[str, Any]:
        record: dict[str, Any] = {
            "_model": self.label,
            **{f["name"]: self.value(f, n) for f in self.required},
        }
        record[self.text["name"]] = self.text_of(n, updated=False)
        if self.client_keys:
            record[self.pk] = str(uuid.uuid4())
        return record

    def update(self, n: int, pk: Any, version: int) -> dict[str, Any]:
        return {
            "_model": self.label,
            self.pk: pk,
            self.text["name"]: self.text_of(n, updated=True),
            "_version": version,
        }


@dataclass
class Account:
    username: str
    password: str
    organization: str


def create_benchmark_account(label: str, *, filtered: bool = False) -> Account:
    """A fresh organization, user and group with every permission on ``label``, so counts are exact.
    ``filtered``: the group also gets a data filter every generated row passes (its text field is not
    ``-``), so every lookup, write and page pays for a row filter."""
    model = discovery.get_sync_model(label)
    if model is None or discovery.tenant_field(model) is None:
        raise BenchmarkError(f"{label} is not a sync-enabled model with a tenant field.")
    maker = RecordMaker({**discovery.describe_model(model), "model": model._meta.label})
    suffix = secrets.token_hex(4)
    organization = Organization.objects.create(name=f"Benchmark {suffix}", slug=f"bench-{suffix}")
    group, _ = Group.objects.get_or_create(name="sbsync benchmark")
    password = secrets.token_urlsafe(16)
    user = get_user_model().objects.create_user(username=f"bench-{suffix}", password=password)
    Membership.objects.create(user=user, organization=organization, group=group)
    ModelPermission.objects.create(
        organization=organization,
        group=group,
        model_label=model._meta.label,
        **{f"can_{action}": True for action in Action.values},
    )
    if filtered:
        DataFilter.objects.create(
            organization=organization,
            group=group,
            model_label=model._meta.label,
            name="benchmark",
            condition={"field": maker.text["name"], "operator": "ne", "value": "-"},
        )
    return Account(user.get_username(), password, organization.slug)


def create_baseline_account() -> Account:
    """A fresh organization for the bare baseline (which authenticates nobody)."""
    suffix = secrets.token_hex(4)
    organization = Organization.objects.create(
        name=f"Benchmark baseline {suffix}", slug=f"bench-bare-{suffix}"
    )
    return Account("bare", "", organization.slug)


class Workload:
    """One client's create, update and pull of ``records`` rows of ``label``; with ``seeded`` (primary
    key → text of rows already written), only the pull. ``exact``: the organization holds nothing else,
    so the pull must return exactly the written rows."""

    def __init__(
        self,
        client: ApiClient,
        *,
        label: str,
        records: int,
        batch: int,
        seeded: dict[str, str] | None = None,
        exact: bool = True,
    ) -> None:
        catalogue = client.expect("GET", "models/")
        described = {m["model"].lower(): m for m in catalogue["models"]}.get(label.lower())
        if described is None:
            raise BenchmarkError(f"{label} is not among the models this account may sync.")
        self.client = client
        self.maker = RecordMaker(described)
        self.records = records
        self.batch = batch
        self.seeded = seeded is not None
        self.expected: dict[str, str] = dict(seeded or {})
        self.versions: dict[int, tuple[Any, int]] = {}
        self.seen: dict[str, str] = {}
        self.outcome = Outcome(expected=records, exact=exact)

    def seed_through_push(self) -> None:
        """Write the rows with untimed pushes and measure only the pull (for a server whose models this
        process cannot write directly: the bare baseline)."""
        self.push(self.maker.create, updated=False)
        self.seeded = True

    def phases(self) -> list[str]:
        return ["pull"] if self.seeded else ["create", "update", "pull"]

    def run(self, phase: str) -> None:
        if phase == "create":
            self.push(self.maker.create, updated=False)
        elif phase == "update":
            self.push(lambda n: self.maker.update(n, *self.versions[n]), updated=True)
        else:
            self.pull()

    def push(self, build: Callable[[int], dict[str, Any]], *, updated: bool) -> None:
        for chunk in batched(range(self.records), self.batch):
            status, answer = self.client.call("POST", "push/", {"data": [build(n) for n in chunk]})
            if status == 404:
                raise BenchmarkError(
                    "This server has no push/ endpoint; measure pull alone with --seed-direct."
                )
            if status != 200 or answer["error_count"]:
                raise BenchmarkError(f"push answered {status}: {str(answer)[:500]}")
            for n, result in zip(chunk, answer["results"], strict=True):
                self.expected[str(result["id"])] = self.maker.text_of(n, updated)
                self.versions[n] = (result["id"], result["_version"])

    def pull(self) -> None:
        label, pk, text = self.maker.label, self.maker.pk, self.maker.text["name"]
        cursor: str | None = None
        while True:
            started = time.perf_counter()
            answer = self.client.expect(
                "POST", "pull/", {"models": {label: cursor}, "batch_size": self.batch}
            )
            if cursor is None:
                self.outcome.first_page_seconds = time.perf_counter() - started
            for record in answer["data"]:
                self.seen[str(record[pk])] = record[text]
                self.outcome.pulled += 1
            cursor = answer["metadata"][label]["cursor"]
            if not answer["batch_info"]["has_more"]:
                return

    def check(self) -> Outcome:
        """The count check, once the pull is done."""
        outcome, expected, seen = self.outcome, self.expected, self.seen
        outcome.distinct = len(seen)
        outcome.missing = sum(1 for pk in expected if pk not in seen)
        outcome.stale = sum(1 for pk, text in expected.items() if pk in seen and seen[pk] != text)
        outcome.throttled_seconds = self.client.throttled_seconds
        return outcome


def run_phases(workloads: list[Workload], sampler: ServerSampler | None) -> Outcome:
    """Each phase of every workload, the workloads of a phase together (one thread per client); the
    phase's time runs until the last client is done. Returns the outcome of all clients together."""
    combined = Outcome(exact=all(w.outcome.exact for w in workloads))
    for name in workloads[0].phases():
        clients = [w.client for w in workloads]
        requests = sum(c.requests for c in clients)
        statements = [c.statements or 0 for c in clients]
        if sampler:
            sampler.new_window()
            cpu = sampler.cpu_seconds()
        started = time.perf_counter()
        _together([partial(w.run, name) for w in workloads])
        seconds = time.perf_counter() - started
        phase = Phase(name, sum(w.records for w in workloads), seconds)
        phase.requests = sum(c.requests for c in clients) - requests
        if any(c.statements is not None for c in clients):
            phase.statements = sum(c.statements or 0 for c in clients) - sum(statements)
        if sampler:
            phase.cpu_seconds = sampler.cpu_seconds() - cpu
            phase.peak_mb = sampler.new_window()
        combined.phases.append(phase)
    for workload in workloads:
        outcome = workload.check()
        for name in ("pulled", "distinct", "expected", "missing", "stale", "throttled_seconds"):
            setattr(combined, name, getattr(combined, name) + getattr(outcome, name))
        combined.first_page_seconds = max(combined.first_page_seconds, outcome.first_page_seconds)
    return combined


def _together(jobs: list[Callable[[], None]]) -> None:
    """Run ``jobs`` at the same time and raise the first failure."""
    if len(jobs) == 1:
        jobs[0]()
        return
    failures: list[BaseException] = []

    def guarded(job: Callable[[], None]) -> None:
        try:
            job()
        except BaseException as exc:  # re-raised in the calling thread
            failures.append(exc)

    threads = [threading.Thread(target=guarded, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]


def run_workload(
    client: ApiClient,
    *,
    label: str,
    records: int,
    batch: int,
    sampler: ServerSampler | None,
    seeded: dict[str, str] | None = None,
    exact: bool = True,
) -> Outcome:
    """One client's workload (see ``Workload``), measured phase by phase."""
    workload = Workload(client, label=label, records=records, batch=batch, seeded=seeded, exact=exact)
    return run_phases([workload], sampler)


def seed_rows(label: str, organization_slug: str, count: int) -> dict[str, str]:
    """Write ``count`` rows straight into the database (no HTTP), entered in the change index and
    positioned, as push would leave them. Returns each row's primary key (as text) and text value."""
    model = apps.get_model(label)
    organization = Organization.objects.get(slug=organization_slug)
    maker = RecordMaker(discovery.describe_model(model))
    tenant = discovery.tenant_field(model)
    assert tenant is not None
    for chunk in batched(range(count), SEED_CHUNK):
        rows = []
        for n in chunk:
            values = {k: v for k, v in maker.create(n).items() if k != "_model"}
            rows.append(model(**values, **{tenant.attname: organization.pk}))
        model._default_manager.bulk_create(rows)
    in_scope = model._default_manager.filter(**{tenant.attname: organization.pk})
    mark_changed(in_scope)
    ensure_backfilled(model, organization.pk, in_scope)
    stamp_pending(organization.pk)
    return {str(pk): text for pk, text in in_scope.values_list("pk", maker.text["name"]).iterator()}
