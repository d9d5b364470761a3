"""Local writes: each ``save`` or ``delete`` changes the local row and records the change in the outbox,
in one transaction. A row has at most one entry not yet in a batch; later edits merge into it. An entry
already in a batch in flight is never changed (its batch must be replayed byte for byte), so an edit
made meanwhile gets an entry of its own, based on the in-flight entry's outcome."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import uuid
from decimal import Decimal
from typing import Any

from sbsync.client.errors import LocalError
from sbsync.client.models import ModelInfo
from sbsync.client.store import Store, key


def save(store: Store, info: ModelInfo, fields: dict[str, Any]) -> Any:
    perms = info.permissions
    if not perms.get("push"):
        raise LocalError(f"Your role may not push {info.label}.")
    values = dict(fields)
    pk = None
    for name in dict.fromkeys((info.pk, "pk", "id")):
        if name in values:
            given = values.pop(name)
            if pk is not None and given != pk:
                raise LocalError(f"Two different primary keys were given for {info.label}.")
            pk = given
    writable = info.writable
    unknown = sorted(name for name in values if name not in writable)
    if unknown:
        raise LocalError(f"{info.label} has no field a client may write named {', '.join(unknown)}.")
    values = {writable[name]: _plain(value) for name, value in values.items()}
    with store.transaction() as db:
        row = _local_row(store, info, pk) if pk is not None else None
        if row is None and info.pull and not info.client_keys:
            raise LocalError(
                f"The server assigns the keys of {info.label}: rows of it cannot be created offline "
                "(give the key of a row this replica holds to update it)."
            )
        if row is None and pk is None:
            if not info.uuid_keys:
                raise LocalError(f"Give the primary key ({info.pk}) of the new {info.label} row.")
            pk = str(uuid.uuid4())
        pk = _plain(pk)
        if row is None and info.pull and not perms.get("create"):
            raise LocalError(f"Your role may not create {info.label} rows.")
        if row is not None and not perms.get("update"):
            raise LocalError(f"Your role may not update {info.label} rows.")
        _record(db, info, pk, "save", values, row)
        if info.pull:
            current = info.decode(dict(row)) if row is not None else {info.pk: pk}
            current.update(values)
            if row is None:
                current["_version"] = None
            store.write_rows(info.label, [info.encode(current)])
    return pk


def delete(store: Store, info: ModelInfo, pk: Any) -> None:
    if not info.permissions.get("push") or not info.permissions.get("delete"):
        raise LocalError(f"Your role may not delete {info.label} rows.")
    with store.transaction() as db:
        row = _local_row(store, info, pk)
        if info.pull and row is None:
            raise LocalError(f"{info.label} has no local row {pk!r}.")
        entry = _open_entry(db, info.label, pk)
        if entry is not None and entry["created"] and _in_flight(db, info.label, pk) is None:
            # Created here and never sent: nothing to tell the server.
            db.execute("DELETE FROM sbsync_outbox WHERE seq = ?", (entry["seq"],))
            db.execute("DELETE FROM sbsync_shadow WHERE model = ? AND pk = ?", (info.label, key(pk)))
        else:
            _record(db, info, pk, "delete", {}, row)
        if info.pull:
            store.delete_rows(info.label, info.pk, [pk])


def _record(
    db: sqlite3.Connection, info: ModelInfo, pk: Any, op: str, values: dict[str, Any], row: sqlite3.Row | None
) -> None:
    entry = _open_entry(db, info.label, pk)
    if entry is not None:
        if op == "delete":
            merged: dict[str, Any] = {}
        elif entry["op"] == "delete":  # deleted here, then saved again: send the whole row
            merged = values
        else:
            merged = {**json.loads(entry["fields"]), **values}
        db.execute(
            "UPDATE sbsync_outbox SET op = ?, fields = ? WHERE seq = ?",
            (op, json.dumps(merged), entry["seq"]),
        )
        return
    flight = _in_flight(db, info.label, pk)
    if flight is not None:
        base, created = flight["base_version"], flight["created"]
    elif row is not None:
        base, created = row["_version"], int(row["_version"] is None)
    else:
        base, created = None, 1
    if row is not None and base is None and op == "save":
        # A row created here whose create is still unsent or in flight: send all of it.
        values = {**{k: v for k, v in info.decode(dict(row)).items() if k in info.writable}, **values}
    shadow = None if row is None or row["_version"] is None else json.dumps(info.decode(dict(row)))
    db.execute(
        "INSERT OR IGNORE INTO sbsync_shadow (model, pk, row) VALUES (?, ?, ?)", (info.label, key(pk), shadow)
    )
    db.execute(
        "INSERT INTO sbsync_outbox (model, pk, op, fields, base_version, created) VALUES (?, ?, ?, ?, ?, ?)",
        (info.label, key(pk), op, json.dumps(values), base, created),
    )


def _local_row(store: Store, info: ModelInfo, pk: Any) -> sqlite3.Row | None:
    return store.read_row(info.label, info.pk, _plain(pk)) if info.pull else None


def _open_entry(db: sqlite3.Connection, label: str, pk: Any) -> sqlite3.Row | None:
    row: sqlite3.Row | None = db.execute(
        "SELECT * FROM sbsync_outbox WHERE model = ? AND pk = ? AND batch IS NULL", (label, key(pk))
    ).fetchone()
    return row


def _in_flight(db: sqlite3.Connection, label: str, pk: Any) -> sqlite3.Row | None:
    row: sqlite3.Row | None = db.execute(
        "SELECT * FROM sbsync_outbox WHERE model = ? AND pk = ? AND batch IS NOT NULL ORDER BY seq DESC LIMIT 1",
        (label, key(pk)),
    ).fetchone()
    return row


def _plain(value: Any) -> Any:
    """Python values as the JSON the server expects: UUIDs and decimals as text, dates in ISO-8601."""
    if isinstance(value, (uuid.UUID, Decimal)):
        return str(value)
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return value
