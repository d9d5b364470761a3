"""The replica's SQLite file: one table per pulled model (named by its label, e.g. ``"shop.Customer"``,
with the server's columns and ``_version``), and the client's own tables, all prefixed ``sbsync_``:

* ``sbsync_meta``: server URL, user, organization, token, last sync.
* ``sbsync_models``: each model the role may push or pull, its description from ``GET models/`` and its
  pull cursor.
* ``sbsync_outbox``: local writes not yet acknowledged by the server, one entry per row and batch; an
  entry's ``batch`` is set, in the same transaction as the batch's body, before the batch is sent.
* ``sbsync_batches``: the exact body of each batch in flight (replayed byte for byte after a crash) and
  its async job.
* ``sbsync_shadow``: the server's state of each row that has local changes (what a rejected change rolls
  back to).
* ``sbsync_conflicts``: local changes the server did not apply, with both versions and the resolution.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sbsync.client.errors import SyncInProgress

FORMAT = "1"
SCHEMA = """
CREATE TABLE IF NOT EXISTS sbsync_meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS sbsync_models (
    label TEXT PRIMARY KEY, pk TEXT NOT NULL, description TEXT NOT NULL, pull INTEGER NOT NULL,
    cursor TEXT, synced INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS sbsync_outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, model TEXT NOT NULL, pk TEXT NOT NULL, op TEXT NOT NULL,
    fields TEXT NOT NULL, base_version INTEGER, created INTEGER NOT NULL, batch TEXT);
CREATE INDEX IF NOT EXISTS sbsync_outbox_row ON sbsync_outbox (model, pk);
CREATE INDEX IF NOT EXISTS sbsync_outbox_batch ON sbsync_outbox (batch);
CREATE TABLE IF NOT EXISTS sbsync_batches (
    batch_id TEXT PRIMARY KEY, seq INTEGER NOT NULL UNIQUE, body TEXT NOT NULL, entries TEXT NOT NULL,
    job TEXT);
CREATE TABLE IF NOT EXISTS sbsync_shadow (
    model TEXT NOT NULL, pk TEXT NOT NULL, row TEXT, PRIMARY KEY (model, pk));
CREATE TABLE IF NOT EXISTS sbsync_conflicts (
    id INTEGER PRIMARY KEY AUTOINCREMENT, model TEXT NOT NULL, pk TEXT NOT NULL, kind TEXT NOT NULL,
    local TEXT NOT NULL, base_version INTEGER, server TEXT, server_version INTEGER, errors TEXT,
    resolution TEXT NOT NULL, batch_id TEXT, at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')));
"""


def quote(name: str) -> str:
    """An SQL identifier: model labels and field names become table and column names as they are."""
    return '"' + name.replace('"', '""') + '"'


def key(pk: Any) -> str:
    """A primary key as stored in the client's tables (JSON, so 7 and "7" stay apart)."""
    return json.dumps(pk)


class Store:
    """The SQLite connection and the few statements every part shares. Writes happen in ``transaction()``
    (``BEGIN IMMEDIATE``), so a crash leaves either all of a step or none of it."""

    def __init__(self, path: str):
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)  # idempotent; executescript commits as it goes
        self._columns: dict[str, list[str]] = {}

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def sync_lock(self) -> Iterator[None]:
        """One sync of a file at a time, across processes (an overlapping cron run): a second one is
        refused at once rather than sending the same changes in two batches. Local reads and writes of
        other processes go on meanwhile; their transactions keep the file consistent."""
        try:
            import fcntl
        except ImportError:  # Windows: no advisory locks; run one sync at a time
            yield
            return
        with open(self.path + ".lock", "w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise SyncInProgress(
                    f"Another process is syncing {self.path}; try again when it is done."
                ) from None
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        if self.db.in_transaction:  # nested: part of the caller's transaction
            yield self.db
            return
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            self._columns.clear()
            raise
        self.db.execute("COMMIT")

    # meta

    def meta(self, name: str) -> str | None:
        row = self.db.execute("SELECT value FROM sbsync_meta WHERE key = ?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, name: str, value: str | None) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO sbsync_meta (key, value) VALUES (?, ?)", (name, value))

    # model tables

    def columns(self, label: str) -> list[str]:
        if label not in self._columns:
            rows = self.db.execute(f"PRAGMA table_info({quote(label)})").fetchall()
            self._columns[label] = [row["name"] for row in rows]
        return self._columns[label]

    def create_table(self, label: str, pk: str, names: list[str]) -> None:
        columns = ", ".join(
            f"{quote(name)} PRIMARY KEY" if name == pk else quote(name)
            for name in names
            if name != "_version"
        )
        self.db.execute(f"CREATE TABLE IF NOT EXISTS {quote(label)} ({columns}, _version INTEGER)")
        self._columns.pop(label, None)

    def add_column(self, label: str, name: str) -> None:
        self.db.execute(f"ALTER TABLE {quote(label)} ADD COLUMN {quote(name)}")
        self._columns.pop(label, None)

    def drop_column(self, label: str, name: str) -> None:
        self.db.execute(f"ALTER TABLE {quote(label)} DROP COLUMN {quote(name)}")
        self._columns.pop(label, None)

    def drop_table(self, label: str) -> None:
        self.db.execute(f"DROP TABLE IF EXISTS {quote(label)}")
        self._columns.pop(label, None)

    def write_rows(self, label: str, rows: list[dict[str, Any]]) -> None:
        """Insert or replace whole rows (already encoded for SQLite)."""
        if not rows:
            return
        names = self.columns(label)
        sql = (
            f"INSERT OR REPLACE INTO {quote(label)} ({', '.join(map(quote, names))}) "
            f"VALUES ({', '.join('?' for _ in names)})"
        )
        self.db.executemany(sql, [tuple(row.get(name) for name in names) for row in rows])

    def delete_rows(self, label: str, pk: str, keys: list[Any]) -> None:
        self.db.executemany(f"DELETE FROM {quote(label)} WHERE {quote(pk)} = ?", [(k,) for k in keys])

    def read_row(self, label: str, pk: str, value: Any) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.db.execute(
            f"SELECT * FROM {quote(label)} WHERE {quote(pk)} = ?", (value,)
        ).fetchone()
        return row
