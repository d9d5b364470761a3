"""Pulling every model until ``has_more`` is false. Each page's rows, tombstones and cursors are applied
in one local transaction, so a crash resumes from the last page applied. Rows with unsent local changes
keep them: the server's state goes to the shadow table and the local changes stay on top."""

from __future__ import annotations

import json
from collections import defaultdict
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from sbsync.client import schema
from sbsync.client.errors import ProtocolError, unexpected_answer
from sbsync.client.models import ModelInfo
from sbsync.client.report import SyncReport
from sbsync.client.store import key
from sbsync.client.transport import Answer

if TYPE_CHECKING:
    from sbsync.client.replica import Replica

RESTART = ("cursor_expired", "invalid_cursor")


def pull_all(replica: Replica, report: SyncReport) -> None:
    """The next page is asked for while the current one is written to the local file (its cursors are in
    the answer), so the server's time and the client's overlap; at most two pages are in memory."""
    db = replica.store.db
    wanted = {
        row["label"]: row["cursor"]
        for row in db.execute("SELECT label, cursor FROM sbsync_models WHERE pull = 1")
    }
    refreshed = False
    restarts: dict[str, int] = defaultdict(int)
    size = max(1, min(replica.batch_size, int(replica.limits.get("max_pull_batch", 1000))))
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sbsync-pull") as fetcher:

        def ask(models: dict[str, Any]) -> Future[Answer]:
            return fetcher.submit(
                replica.transport.request, "POST", "pull/", {"models": dict(models), "batch_size": size}
            )

        asked = ask(wanted) if wanted else None
        while asked is not None:
            answer = asked.result()
            asked = None
            if answer.status == 200:
                metadata = answer.body.get("metadata") or {}
                for label, meta in metadata.items():
                    if label in wanted:
                        if meta.get("has_more"):
                            wanted[label] = meta.get("cursor")
                        else:
                            del wanted[label]
                if wanted:
                    asked = ask(wanted)
                _apply(replica, answer.body, report)
                continue
            code = answer.body.get("error")
            if answer.status in (400, 410) and code in RESTART:
                for label in _models_named(answer.body, wanted):
                    restarts[label] += 1
                    if restarts[label] > 3:
                        raise ProtocolError(
                            f"pull/ keeps refusing the start of {label} ({code}).", body=answer.body
                        )
                    with replica.store.transaction():
                        schema.resync(replica.store, label)
                    wanted[label] = None
                    report.resynced.append(label)
            elif (answer.status, code) in ((403, "forbidden"), (400, "unknown_model")) and not refreshed:
                # The role lost a model since models/ was read: read it again (which drops the model).
                refreshed = True
                replica.refresh_models(report)
                pulled = {
                    row["label"] for row in db.execute("SELECT label FROM sbsync_models WHERE pull = 1")
                }
                wanted = {label: cursor for label, cursor in wanted.items() if label in pulled}
            else:
                raise unexpected_answer("pull/", answer.status, answer.body)
            asked = ask(wanted) if wanted else None


def _models_named(body: dict[str, Any], wanted: dict[str, Any]) -> list[str]:
    errors = body.get("errors") or {}
    by_lower = {label.lower(): label for label in wanted}
    labels = [
        by_lower[name[len("models.") :].lower()]
        for name in errors
        if name.lower()[len("models.") :] in by_lower
    ]
    if not labels:
        raise ProtocolError(f"pull/ answered {body.get('error')} without naming a model.", body=body)
    return labels


def _apply(replica: Replica, page: dict[str, Any], report: SyncReport) -> None:
    store = replica.store
    models = replica.models()
    data: dict[str, list[dict[str, Any]]] = defaultdict(list)
    gone: dict[str, list[Any]] = defaultdict(list)
    for row in page.get("data", []):
        data[row["_model"]].append(row)
    for row in page.get("deleted", []):
        info = models.get(row["_model"])
        if info is not None:
            gone[row["_model"]].append(row[info.pk])
    metadata = page.get("metadata") or {}
    with store.transaction() as db:
        for label in set(data) | set(gone):
            info = models.get(label)
            if info is None or not info.pull:
                raise ProtocolError(f"pull/ sent rows of {label}, which this replica did not ask for.")
            pending = {
                json.loads(entry["pk"]): entry
                for entry in db.execute("SELECT pk FROM sbsync_outbox WHERE model = ?", (label,))
            }
            _add_columns(replica, info, data[label])
            clean = [info.encode(row) for row in data[label] if row[info.pk] not in pending]
            store.write_rows(label, clean)
            for row in data[label]:
                if row[info.pk] in pending:
                    _under_local_changes(replica, info, row)
            store.delete_rows(label, info.pk, [pk for pk in gone[label] if pk not in pending])
            for pk in gone[label]:
                if pk in pending:
                    db.execute(
                        "UPDATE sbsync_shadow SET row = NULL WHERE model = ? AND pk = ?", (label, key(pk))
                    )
        for label, meta in metadata.items():
            db.execute(
                "UPDATE sbsync_models SET cursor = ?, synced = max(synced, ?) WHERE label = ?",
                (meta.get("cursor"), int(not meta.get("has_more")), label),
            )
    pulled = sum(len(rows) for rows in data.values())
    removed = sum(len(keys) for keys in gone.values())
    report.pulled += pulled
    report.deleted += removed
    replica.report_progress("pull", pulled + removed)


def _under_local_changes(replica: Replica, info: ModelInfo, row: dict[str, Any]) -> None:
    """The server's new state of a row this replica changed: it becomes the shadow, and the local changes
    are laid on it again (a row deleted here stays deleted until the delete is pushed)."""
    db = replica.store.db
    server = {k: v for k, v in row.items() if k != "_model"}
    pk = key(server[info.pk])
    db.execute(
        "INSERT OR REPLACE INTO sbsync_shadow (model, pk, row) VALUES (?, ?, ?)",
        (info.label, pk, json.dumps(server)),
    )
    state: dict[str, Any] | None = dict(server)
    for entry in db.execute(
        "SELECT op, fields FROM sbsync_outbox WHERE model = ? AND pk = ? ORDER BY seq", (info.label, pk)
    ):
        state = None if entry["op"] == "delete" else {**(state or server), **json.loads(entry["fields"])}
    if state is None:
        replica.store.delete_rows(info.label, info.pk, [server[info.pk]])
    else:
        state["_version"] = server["_version"]
        replica.store.write_rows(info.label, [info.encode(state)])


def _add_columns(replica: Replica, info: ModelInfo, rows: list[dict[str, Any]]) -> None:
    """A field the server added since models/ was read (schema drift mid-sync): add its column."""
    if not rows:
        return
    columns = set(replica.store.columns(info.label))
    for name in rows[0]:
        if name != "_model" and name not in columns:
            replica.store.add_column(info.label, name)
