"""The sync benchmark (``manage.py sync_benchmark``): a push/pull workload of N records through the HTTP
API of a running server, timed per phase, with the server's memory sampled throughout.

Phases: *create* (N new records pushed in batches), *update* (each record pushed again with a changed
text field and the ``_version`` it got), *pull* (from ``null`` to the end, ``batch_size`` = the batch),
and a *count check* (every written row pulled, in its latest state, the right number of times).

Records are generated from the model's description in ``models/`` (its required fields and the first
free text field), so any tenant model whose required fields are plain values can be measured. With
``seed_rows`` the rows are written directly with the ORM instead (``--seed-direct``), to measure pull
alone.
"""

from __future__ import annotations

import http.client
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import orjson
import psutil
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connections

from sbsync import discovery
from sbsync.enums import Action
from sbsync.models import Membership, ModelPermission, Organization
from sbsync.sync.changes.index import batched, ensure_backfilled, stamp_pending
from sbsync.sync.changes.tracking import mark_changed

INTEGER_TYPES = {
    "IntegerField",
    "SmallIntegerField",
    "BigIntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "PositiveBigIntegerField",
}
TEXT_TYPES = {"CharField", "TextField", "SlugField"}
SAMPLE_SECONDS = 0.02
SEED_CHUNK = 1000


class BenchmarkError(Exception):
    """The workload cannot run or its result is wrong; the message says why."""


@dataclass
class Phase:
    name: str
    records: int
    seconds: float
    peak_mb: float | None

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds else 0.0


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


class ApiClient:
    """JSON over one keep-alive HTTP connection; waits out 429s and counts the time waited."""

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


class MemorySampler(threading.Thread):
    """Samples the resident memory of a server process tree; the figure is its largest process (the
    worker that runs the requests)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.window_peak = 0.0
        self.peak = 0.0
        self.stopped = threading.Event()

    def sample(self) -> float:
        largest = 0
        for process in [self.root, *self.root.children(recursive=True)]:
            try:
                largest = max(largest, process.memory_info().rss)
            except psutil.Error:
                continue
        return largest / (1024 * 1024)

    def run(self) -> None:
        while not self.stopped.wait(SAMPLE_SECONDS):
            megabytes = self.sample()
            self.window_peak = max(self.window_peak, megabytes)
            self.peak = max(self.peak, megabytes)

    def new_window(self) -> float:
        """Start a new measuring window; returns the peak of the one that ends."""
        ended, self.window_peak = self.window_peak, self.sample()
        return ended


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


def create_benchmark_account(label: str) -> Account:
    """A fresh organization, user and group with every permission on ``label``, so counts are exact."""
    model = discovery.get_sync_model(label)
    if model is None or discovery.tenant_field(model) is None:
        raise BenchmarkError(f"{label} is not a sync-enabled model with a tenant field.")
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
    return Account(user.get_username(), password, organization.slug)


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


def _timed(name: str, records: int, sampler: MemorySampler | None, work: Callable[[], None]) -> Phase:
    if sampler:
        sampler.new_window()
    started = time.perf_counter()
    work()
    seconds = time.perf_counter() - started
    return Phase(name, records, seconds, sampler.new_window() if sampler else None)


def run_workload(
    client: ApiClient,
    *,
    label: str,
    records: int,
    batch: int,
    sampler: MemorySampler | None,
    seeded: dict[str, str] | None = None,
    exact: bool = True,
) -> Outcome:
    """Create, update and pull ``records`` rows of ``label``; with ``seeded`` (primary key → text of rows
    already written), only pull. ``exact``: the organization holds nothing else, so the pull must
    return exactly the written rows."""
    catalogue = client.expect("GET", "models/")
    described = {m["model"].lower(): m for m in catalogue["models"]}.get(label.lower())
    if described is None:
        raise BenchmarkError(f"{label} is not among the models this account may sync.")
    maker = RecordMaker(described)
    outcome = Outcome(expected=records, exact=exact)
    expected: dict[str, str] = dict(seeded or {})
    versions: dict[int, tuple[Any, int]] = {}

    def push(build: Callable[[int], dict[str, Any]], updated: bool) -> None:
        for chunk in batched(range(records), batch):
            status, answer = client.call("POST", "push/", {"data": [build(n) for n in chunk]})
            if status == 404:
                raise BenchmarkError(
                    "This server has no push/ endpoint; measure pull alone with --seed-direct."
                )
            if status != 200 or answer["error_count"]:
                raise BenchmarkError(f"push answered {status}: {str(answer)[:500]}")
            for n, result in zip(chunk, answer["results"], strict=True):
                expected[str(result["id"])] = maker.text_of(n, updated)
                versions[n] = (result["id"], result["_version"])

    if seeded is None:
        outcome.phases.append(_timed("create", records, sampler, lambda: push(maker.create, False)))
        outcome.phases.append(
            _timed("update", records, sampler, lambda: push(lambda n: maker.update(n, *versions[n]), True))
        )
    seen: dict[str, str] = {}

    def pull() -> None:
        cursor: str | None = None
        while True:
            started = time.perf_counter()
            answer = client.expect("POST", "pull/", {"models": {maker.label: cursor}, "batch_size": batch})
            if cursor is None:
                outcome.first_page_seconds = time.perf_counter() - started
            for record in answer["data"]:
                seen[str(record[maker.pk])] = record[maker.text["name"]]
                outcome.pulled += 1
            cursor = answer["metadata"][maker.label]["cursor"]
            if not answer["batch_info"]["has_more"]:
                return

    outcome.phases.append(_timed("pull", records, sampler, pull))
    outcome.distinct = len(seen)
    outcome.missing = sum(1 for pk in expected if pk not in seen)
    outcome.stale = sum(1 for pk, text in expected.items() if pk in seen and seen[pk] != text)
    outcome.throttled_seconds = client.throttled_seconds
    return outcome


def wsgi_target() -> str:
    module, _, name = settings.WSGI_APPLICATION.rpartition(".")
    return f"{module}:{name}"


@contextmanager
def started_server(port: int) -> Iterator[subprocess.Popen[bytes]]:
    """gunicorn with one worker process (one thread) on ``port``, with this process's environment and
    settings, DEBUG off and the per-token request throttle off (REQUEST_THROTTLE_RATE="", read by the
    demo settings). Stopped when the block ends."""
    for alias in connections:
        connections[alias].close()
    env = {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
        "REQUEST_THROTTLE_RATE": "",
        "PYTHONPATH": os.pathsep.join(filter(None, [os.getcwd(), os.environ.get("PYTHONPATH")])),
    }
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        wsgi_target(),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "1",
        "--worker-class",
        "gthread",
        "--threads",
        "1",
        "--timeout",
        "600",
        "--log-level",
        "warning",
    ]
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(command, env=env, stdout=log, stderr=log)
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
            probe.request("GET", "/")
            probe.getresponse().read()
            probe.close()
            return
        except OSError:
            time.sleep(0.2)
    raise BenchmarkError("The server did not answer within 60 seconds.")
