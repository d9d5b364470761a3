"""``Replica``: a local SQLite copy of what one user may see of one organization, with offline writes that
reach the server exactly once. See ``sbsync/docs/client.md``."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from sbsync.client import outbox, pull, push, schema
from sbsync.client.conflicts import Conflict, Resolution, server_wins
from sbsync.client.errors import LocalError, ReplicaMismatch, unexpected_answer
from sbsync.client.models import ModelInfo
from sbsync.client.report import SyncReport
from sbsync.client.store import FORMAT, Store, quote
from sbsync.client.transport import RetryPolicy, Transport

Progress = Callable[[str, int], None]


class Replica:
    """A replica file bound to one server, user and organization.

    ``Replica("replica.sqlite3", url="https://host/api/sync/", username="mary", password="…")`` opens (or
    creates) the file; ``sync()`` pushes the outbox and pulls every model to the end; ``rows``, ``get``,
    ``save`` and ``delete`` work offline. ``on_conflict`` chooses how a conflict is resolved (server wins by
    default). One Replica object is used by one thread at a time; several processes may open the same file.
    """

    def __init__(
        self,
        path: str,
        *,
        url: str | None = None,
        username: str | None = None,
        password: str | None = None,
        token: str | None = None,
        organization: str | None = None,
        batch_size: int = 500,
        push_batch_size: int = 500,
        async_push_over: int | None = None,
        on_conflict: Callable[[Conflict], Resolution] = server_wins,
        retry: RetryPolicy | None = None,
        timeout: float = 60.0,
        progress: Progress | None = None,
    ):
        self.store = Store(path)
        url = url or self.store.meta("url")
        if url is None:
            self.store.close()
            raise ReplicaMismatch(f"{path} is not a replica yet: give the server's URL.")
        self._bind(url, username, organization)
        self.limits: dict[str, Any] = {}
        self._new_token: str | None = None
        self._models: dict[str, ModelInfo] | None = None
        self.transport = Transport(
            url,
            username=username or self.store.meta("username"),
            password=password,
            token=token or self.store.meta("token"),
            organization=organization or self.store.meta("organization"),
            retry=retry,
            timeout=timeout,
            on_token=self._token_changed,
        )
        self.batch_size = batch_size
        self.push_batch_size = push_batch_size
        self.async_push_over = async_push_over
        self.on_conflict = on_conflict
        self.progress = progress

    def _bind(self, url: str, username: str | None, organization: str | None) -> None:
        """A file never mixes two users' views or two organizations' cursors: once a sync has succeeded it
        belongs to that server, user and organization, and opening it for others is refused."""
        fmt = self.store.meta("format")
        if fmt is not None and fmt != FORMAT:
            raise ReplicaMismatch(
                f"{self.store.path} is a replica of format {fmt}; this client writes {FORMAT}."
            )
        self._identity = {"url": url.rstrip("/") + "/", "username": username, "organization": organization}
        for name, value in self._identity.items():
            stored = self.store.meta(name)
            if value is not None and stored is not None and stored != value:
                raise ReplicaMismatch(
                    f"{self.store.path} is a replica of {name} {stored!r}, not {value!r}: use another file, "
                    "or `reset` this one."
                )

    def _claim(self, organization: str | None) -> None:
        """After the server's first answer: write whose file this is (if not written yet)."""
        identity = {**self._identity, "organization": self._identity["organization"] or organization}
        with self.store.transaction() as db:
            db.execute("INSERT OR IGNORE INTO sbsync_meta (key, value) VALUES ('format', ?)", (FORMAT,))
            for name, value in identity.items():
                if value is not None:
                    db.execute("INSERT OR IGNORE INTO sbsync_meta (key, value) VALUES (?, ?)", (name, value))

    def _token_changed(self, token: str) -> None:
        """Kept in the file by the next step of the caller's thread (a login may happen in the pull's
        fetching thread, which must not write to the file)."""
        self._new_token = token

    def _keep_token(self) -> None:
        token, self._new_token = self._new_token, None
        if token is not None:
            self.store.set_meta("token", token)

    def close(self) -> None:
        self.transport.close()
        self.store.close()

    def __enter__(self) -> Replica:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # the models

    def models(self) -> dict[str, ModelInfo]:
        """The models known locally (from the last sync), by label."""
        if self._models is None:
            rows = self.store.db.execute(
                "SELECT label, description FROM sbsync_models ORDER BY label"
            ).fetchall()
            self._models = {
                row["label"]: ModelInfo.from_server(json.loads(row["description"])) for row in rows
            }
        return self._models

    def model(self, label: str) -> ModelInfo:
        known = self.models()
        for name, info in known.items():
            if name.lower() == label.lower():
                return info
        raise LocalError(
            f"{label} is not a model this replica syncs (known: {', '.join(known) or 'none yet: sync first'})."
        )

    # reading, offline

    def rows(self, label: str) -> Iterator[dict[str, Any]]:
        """Every local row of a pulled model, as the server sends it plus local changes not yet pushed."""
        info = self._pulled(label)
        for row in self.store.db.execute(f"SELECT * FROM {quote(info.label)} ORDER BY {quote(info.pk)}"):
            yield info.decode(dict(row))

    def get(self, label: str, pk: Any) -> dict[str, Any] | None:
        info = self._pulled(label)
        row = self.store.read_row(info.label, info.pk, _pk(pk))
        return None if row is None else info.decode(dict(row))

    def count(self, label: str) -> int:
        info = self._pulled(label)
        return int(self.store.db.execute(f"SELECT count(*) FROM {quote(info.label)}").fetchone()[0])

    def _pulled(self, label: str) -> ModelInfo:
        info = self.model(label)
        if not info.pull:
            raise LocalError(f"Your role may not pull {info.label}: it has no local rows.")
        return info

    # writing, offline

    def save(self, label: str, fields: dict[str, Any]) -> Any:
        """Create or update a row locally and queue it for the next push; returns its primary key. A new row
        of a model with UUID keys gets a client-chosen UUID unless ``fields`` names one."""
        info = self.model(label)
        return outbox.save(self.store, info, fields)

    def delete(self, label: str, pk: Any) -> None:
        """Delete a row locally and queue the delete for the next push."""
        outbox.delete(self.store, self.model(label), _pk(pk))

    def pending(self) -> int:
        """Local changes not yet acknowledged by the server."""
        return int(self.store.db.execute("SELECT count(*) FROM sbsync_outbox").fetchone()[0])

    def conflicts(self) -> list[dict[str, Any]]:
        """Every local change the server did not apply, oldest first, with both versions."""
        out = []
        for row in self.store.db.execute("SELECT * FROM sbsync_conflicts ORDER BY id"):
            item = dict(row)
            for name in ("pk", "local", "server", "errors"):
                item[name] = None if item[name] is None else json.loads(item[name])
            out.append(item)
        return out

    def clear_conflicts(self, ids: list[int] | None = None) -> int:
        """Forget conflicts the application has dealt with (all of them when ``ids`` is None)."""
        with self.store.transaction() as db:
            if ids is None:
                return db.execute("DELETE FROM sbsync_conflicts").rowcount
            return sum(db.execute("DELETE FROM sbsync_conflicts WHERE id = ?", (i,)).rowcount for i in ids)

    # syncing

    def sync(self) -> SyncReport:
        """Push the outbox (batches in flight first, with their stored bodies), then pull every model until
        ``has_more`` is false. Network failures are retried; what could not be sent stays for the next call."""
        started = time.monotonic()
        report = SyncReport()
        with self.store.sync_lock():
            try:
                self.refresh_models(report)
                self._keep_token()
                push.push_all(self, report)
                pull.pull_all(self, report)
            finally:
                self._keep_token()
        self.store.set_meta("last_sync", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
        report.duration = time.monotonic() - started
        return report

    def refresh_models(self, report: SyncReport) -> None:
        """``GET models/``: new models get a table, models the role lost are dropped (their unsent changes go
        to the conflicts table as ``dropped``), a changed field list alters the table and pulls the model
        again from the start (keeping unsent changes)."""
        answer = self.transport.request("GET", "models/")
        if answer.status != 200:
            raise unexpected_answer("models/", answer.status, answer.body)
        slug = (answer.body.get("organization") or {}).get("slug")
        stored = self.store.meta("organization")
        if stored is not None and slug != stored:
            raise ReplicaMismatch(
                f"The server answers for organization {slug!r}, but this replica holds {stored!r}."
            )
        self._claim(slug)
        self.limits = answer.body.get("limits") or {}
        self._models = None
        try:
            schema.apply(
                self.store, [ModelInfo.from_server(item) for item in answer.body.get("models", [])], report
            )
        finally:
            self._models = None

    def status(self) -> dict[str, Any]:
        """What the local file holds: rows per model, unsent changes, batches in flight, conflicts."""
        db = self.store.db
        models = {}
        for label, info in self.models().items():
            models[label] = {
                "rows": self.count(label) if info.pull else None,
                "synced": bool(
                    db.execute("SELECT synced FROM sbsync_models WHERE label = ?", (label,)).fetchone()[0]
                ),
            }
        return {
            "url": self.store.meta("url"),
            "username": self.store.meta("username"),
            "organization": self.store.meta("organization"),
            "last_sync": self.store.meta("last_sync"),
            "models": models,
            "pending": self.pending(),
            "batches_in_flight": db.execute("SELECT count(*) FROM sbsync_batches").fetchone()[0],
            "conflicts": db.execute("SELECT count(*) FROM sbsync_conflicts").fetchone()[0],
        }

    def new_batch_id(self) -> str:
        replica = self.store.meta("replica_id")
        if replica is None:
            replica = uuid.uuid4().hex[:12]
            self.store.set_meta("replica_id", replica)
        return f"{replica}:{uuid.uuid4().hex}"

    def report_progress(self, phase: str, count: int) -> None:
        if self.progress is not None and count:
            self.progress(phase, count)


def _pk(value: Any) -> Any:
    return str(value) if isinstance(value, uuid.UUID) else value
