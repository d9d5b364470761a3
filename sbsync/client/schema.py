"""Keeping the local tables in step with ``GET models/``: a model the role gained gets a table, a model it
lost is dropped (unsent changes of it go to the conflicts table as ``dropped``), and a model whose fields
changed gets its columns altered and is pulled again from the start, keeping unsent local changes."""

from __future__ import annotations

import json
import sqlite3

from sbsync.client.models import ModelInfo
from sbsync.client.report import SyncReport
from sbsync.client.store import Store, quote


def apply(store: Store, infos: list[ModelInfo], report: SyncReport) -> None:
    with store.transaction() as db:
        known = {
            row["label"]: (ModelInfo.from_server(json.loads(row["description"])), bool(row["pull"]))
            for row in db.execute("SELECT label, description, pull FROM sbsync_models")
        }
        for info in infos:
            old = known.pop(info.label, None)
            description = json.dumps(info.description)
            if old is None:
                db.execute(
                    "INSERT INTO sbsync_models (label, pk, description, pull) VALUES (?, ?, ?, ?)",
                    (info.label, info.pk, description, int(info.pull)),
                )
                report.added.append(info.label)
                if info.pull:
                    store.drop_table(info.label)
                    store.create_table(info.label, info.pk, info.field_names)
                continue
            previous, pulled = old
            db.execute(
                "UPDATE sbsync_models SET description = ?, pull = ? WHERE label = ?",
                (description, int(info.pull), info.label),
            )
            if info.pull and not pulled:
                store.drop_table(info.label)
                store.create_table(info.label, info.pk, info.field_names)
                reset(store, info.label)
            elif pulled and not info.pull:
                store.drop_table(info.label)
                reset(store, info.label)
            elif info.pull and set(previous.field_names) != set(info.field_names):
                columns = set(store.columns(info.label))
                for name in info.field_names:
                    if name not in columns:
                        store.add_column(info.label, name)
                for name in columns - set(info.field_names) - {"_version", info.pk}:
                    store.drop_column(info.label, name)
                resync(store, info.label)
                report.resynced.append(info.label)
        for label in known:
            drop(db, store, label, report)


def resync(store: Store, label: str) -> None:
    """Pull ``label`` again from the start: rows without unsent local changes are dropped now, rows with
    them are kept (and refreshed when the pull brings the server's state)."""
    pk = store.db.execute("SELECT pk FROM sbsync_models WHERE label = ?", (label,)).fetchone()[0]
    store.db.execute(
        f"DELETE FROM {quote(label)} WHERE json_quote({quote(pk)}) NOT IN "
        "(SELECT pk FROM sbsync_outbox WHERE model = ?)",
        (label,),
    )
    reset(store, label)


def reset(store: Store, label: str) -> None:
    store.db.execute("UPDATE sbsync_models SET cursor = NULL, synced = 0 WHERE label = ?", (label,))


def drop(db: sqlite3.Connection, store: Store, label: str, report: SyncReport) -> None:
    """The role lost ``label``: its table goes; its unsent changes are kept in the conflicts table."""
    for entry in db.execute(
        "SELECT * FROM sbsync_outbox WHERE model = ? AND batch IS NULL", (label,)
    ).fetchall():
        db.execute(
            "INSERT INTO sbsync_conflicts (model, pk, kind, local, base_version, resolution) "
            "VALUES (?, ?, 'dropped', ?, ?, 'server')",
            (
                label,
                entry["pk"],
                entry["fields"] if entry["op"] == "save" else '{"_deleted": true}',
                entry["base_version"],
            ),
        )
        report.conflicts += 1
    db.execute("DELETE FROM sbsync_outbox WHERE model = ? AND batch IS NULL", (label,))
    db.execute(
        "DELETE FROM sbsync_shadow WHERE model = ? AND pk NOT IN (SELECT pk FROM sbsync_outbox WHERE model = ?)",
        (label, label),
    )
    store.drop_table(label)
    if db.execute("SELECT 1 FROM sbsync_outbox WHERE model = ?", (label,)).fetchone() is None:
        db.execute("DELETE FROM sbsync_models WHERE label = ?", (label,))
    else:  # batches in flight still name it: keep its description until they are answered
        db.execute(
            "UPDATE sbsync_models SET pull = 0, cursor = NULL, description = json_set(description, '$.permissions.pull', json('false')) WHERE label = ?",
            (label,),
        )
    report.dropped.append(label)
