"""Pushing the outbox. A batch's ``batch_id`` and exact body are written to the local file, and its
entries marked, in one transaction **before** the request is sent; after a crash or a lost answer the
same body is sent again and the server replays its stored answer instead of applying it twice. Each
answer is applied (entries acknowledged, conflicts resolved and recorded, rejected changes rolled back)
in one local transaction that also forgets the batch."""

from __future__ import annotations

import json
import sqlite3
import time
from typing import TYPE_CHECKING, Any

from sbsync.client.conflicts import Conflict, Resolution
from sbsync.client.errors import ProtocolError, unexpected_answer
from sbsync.client.models import ModelInfo
from sbsync.client.report import SyncReport
from sbsync.client.transport import Answer

if TYPE_CHECKING:
    from sbsync.client.replica import Replica

SUCCESS = frozenset({"created", "updated", "deleted", "unchanged"})
REFUSED = frozenset({"rejected", "forbidden"})
BODY_SHARE = 0.8  # of the server's max_body_bytes a batch may use


def push_all(replica: Replica, report: SyncReport) -> None:
    db = replica.store.db
    for batch in db.execute("SELECT * FROM sbsync_batches ORDER BY seq").fetchall():
        _send(replica, batch["batch_id"], report)
    size = max(1, min(replica.push_batch_size, int(replica.limits.get("max_push_records", 1000))))
    use_async = replica.async_push_over is not None and replica.pending() > replica.async_push_over
    while True:
        entries = db.execute(
            "SELECT * FROM sbsync_outbox WHERE batch IS NULL ORDER BY seq LIMIT ?", (size,)
        ).fetchall()
        if not entries:
            return
        batch_id = _open_batch(replica, entries, use_async)
        if not _send(replica, batch_id, report):
            size = max(1, size // 2)  # 413: the batch was taken apart, send smaller ones


def _open_batch(replica: Replica, entries: list[sqlite3.Row], use_async: bool) -> str:
    models = replica.models()
    limit = int(replica.limits.get("max_body_bytes", 5 * 1024 * 1024) * BODY_SHARE)
    records: list[dict[str, Any]] = []
    seqs: list[int] = []
    size = 0
    for entry in entries:
        record = _record(models[entry["model"]], entry)
        length = len(json.dumps(record)) + 2
        if records and size + length > limit:
            break
        records.append(record)
        seqs.append(entry["seq"])
        size += length
    batch_id = replica.new_batch_id()
    body: dict[str, Any] = {"data": records, "batch_id": batch_id}
    if use_async:
        body["async"] = True
    with replica.store.transaction() as db:
        number = db.execute("SELECT coalesce(max(seq), 0) + 1 FROM sbsync_batches").fetchone()[0]
        db.execute(
            "INSERT INTO sbsync_batches (batch_id, seq, body, entries) VALUES (?, ?, ?, ?)",
            (batch_id, number, json.dumps(body), json.dumps(seqs)),
        )
        db.executemany("UPDATE sbsync_outbox SET batch = ? WHERE seq = ?", [(batch_id, seq) for seq in seqs])
    return batch_id


def _record(info: ModelInfo, entry: sqlite3.Row) -> dict[str, Any]:
    record: dict[str, Any] = {"_model": info.label, info.pk: json.loads(entry["pk"])}
    if entry["op"] == "delete":
        record["_deleted"] = True
    else:
        record.update(json.loads(entry["fields"]))
    if not entry["created"] and entry["base_version"] is not None:
        record["_version"] = entry["base_version"]
    return record


def _send(replica: Replica, batch_id: str, report: SyncReport) -> bool:
    """Send (or resume) one batch and apply its answer. False when the server found it too large and it
    was taken apart (its entries go back to the outbox, nothing having been applied)."""
    batch = replica.store.db.execute(
        "SELECT * FROM sbsync_batches WHERE batch_id = ?", (batch_id,)
    ).fetchone()
    body = json.loads(batch["body"])
    answer = _poll(replica, batch["job"]) if batch["job"] else None
    if answer is None:
        answer = replica.transport.request("POST", "push/", body)
        if answer.status == 202:
            job = answer.body.get("job")
            if not isinstance(job, str):
                raise ProtocolError("push/ answered 202 without a job.", status=202, body=answer.body)
            with replica.store.transaction() as db:
                db.execute("UPDATE sbsync_batches SET job = ? WHERE batch_id = ?", (job, batch_id))
            answer = _poll(replica, job)
            if answer is None:  # the job vanished or failed: the same batch, synchronously
                answer = replica.transport.request("POST", "push/", {**body, "async": False})
    if answer.status == 413:
        _take_apart(replica, batch_id, json.loads(batch["entries"]), answer, report)
        return False
    results = answer.body.get("results")
    if answer.status in (200, 400, 403) and isinstance(results, list):
        _apply(replica, batch_id, json.loads(batch["entries"]), results, report)
        return True
    raise unexpected_answer("push/", answer.status, answer.body)


def _poll(replica: Replica, job: str) -> Answer | None:
    """Wait for an async push job; its push's status and body, or None if the job is unknown or failed."""
    wait = 0.2
    while True:
        answer = replica.transport.request("GET", f"jobs/{job}/")
        if answer.status == 404:
            return None
        if answer.status != 200:
            raise unexpected_answer(f"jobs/{job}/", answer.status, answer.body)
        state = answer.body.get("status")
        if state == "done":
            return Answer(int(answer.body["status_code"]), answer.body.get("result") or {})
        if state == "failed":
            return None
        time.sleep(wait)
        wait = min(2.0, wait * 1.5)


def _take_apart(replica: Replica, batch_id: str, seqs: list[int], answer: Answer, report: SyncReport) -> None:
    with replica.store.transaction() as db:
        if len(seqs) == 1:  # one record larger than the server accepts: it can never be applied
            entry = db.execute("SELECT * FROM sbsync_outbox WHERE seq = ?", (seqs[0],)).fetchone()
            result = {
                "status": "rejected",
                "errors": {"non_field_errors": [str(answer.body.get("detail", ""))]},
            }
            _refuse(replica, entry, result, batch_id, report)
        else:
            db.execute("UPDATE sbsync_outbox SET batch = NULL WHERE batch = ?", (batch_id,))
        db.execute("DELETE FROM sbsync_batches WHERE batch_id = ?", (batch_id,))


def _apply(replica: Replica, batch_id: str, seqs: list[int], results: list[Any], report: SyncReport) -> None:
    indexes = [r.get("index") for r in results if isinstance(r, dict)]
    if sorted(i for i in indexes if isinstance(i, int)) != list(range(len(seqs))) or len(indexes) != len(
        seqs
    ):
        raise ProtocolError(f"push/ answered {len(results)} results for {len(seqs)} records.")
    with replica.store.transaction() as db:
        for result in results:
            entry = db.execute(
                "SELECT * FROM sbsync_outbox WHERE seq = ?", (seqs[result["index"]],)
            ).fetchone()
            status = result.get("status")
            if status in SUCCESS:
                _acknowledge(replica, entry, result.get("_version"))
                report.pushed += 1
            elif status == "conflict":
                _conflict(replica, entry, result, batch_id, report)
            elif status in REFUSED:
                _refuse(replica, entry, result, batch_id, report)
            else:
                raise ProtocolError(f"push/ answered an unknown record status {status!r}.")
        db.execute("DELETE FROM sbsync_batches WHERE batch_id = ?", (batch_id,))
    replica.report_progress("push", len(seqs))


def _acknowledge(replica: Replica, entry: sqlite3.Row, version: int | None) -> None:
    db, store = replica.store.db, replica.store
    label, pk = entry["model"], json.loads(entry["pk"])
    db.execute("DELETE FROM sbsync_outbox WHERE seq = ?", (entry["seq"],))
    later = _later(db, entry)
    shadow = _shadow(db, entry)
    if entry["op"] == "delete":
        db.execute(
            "UPDATE sbsync_outbox SET base_version = NULL, created = 1 WHERE model = ? AND pk = ?",
            (label, entry["pk"]),
        )
        state = None
    else:
        db.execute(
            "UPDATE sbsync_outbox SET base_version = ?, created = 0 WHERE model = ? AND pk = ?",
            (version, label, entry["pk"]),
        )
        state = {**(shadow or {}), **json.loads(entry["fields"]), "_version": version}
        info = replica.models()[label]
        if info.pull and store.read_row(label, info.pk, pk) is not None:
            db.execute(f'UPDATE "{label}" SET _version = ? WHERE "{info.pk}" = ?', (version, pk))
    _set_shadow(db, entry, state if later else _FORGET)


def _conflict(
    replica: Replica, entry: sqlite3.Row, result: dict[str, Any], batch_id: str, report: SyncReport
) -> None:
    db = replica.store.db
    info = replica.models()[entry["model"]]
    pk = json.loads(entry["pk"])
    known = "server" in result
    server = _server_row(result.get("server"), result.get("_version")) if known else None
    local = {"_deleted": True} if entry["op"] == "delete" else json.loads(entry["fields"])
    conflict = Conflict(
        model=info.label,
        pk=pk,
        local=local,
        base_version=entry["base_version"],
        server=server,
        server_version=result.get("_version"),
        server_known=known,
    )
    resolution: Resolution = replica.on_conflict(conflict)
    _remember(
        db, entry, "conflict", local, server, result.get("_version"), None, resolution.describe(), batch_id
    )
    report.conflicts += 1
    db.execute("DELETE FROM sbsync_outbox WHERE seq = ?", (entry["seq"],))
    shadow = server if known else _shadow(db, entry)
    if resolution.kind == "server":
        if not _later(db, entry):
            _show(replica, info, pk, shadow)
            _set_shadow(db, entry, _FORGET)
        elif known:
            _set_shadow(db, entry, server)
        return
    if resolution.kind == "merge":
        fields = dict(resolution.fields or {})
        _show(replica, info, pk, {**(shadow or {info.pk: pk}), **fields})
    elif entry["op"] == "delete":
        fields = {}
    else:
        fields = local
    gone = known and server is None
    if gone and entry["op"] != "delete":
        current = replica.store.read_row(info.label, info.pk, pk) if info.pull else None
        whole = info.decode(dict(current)) if current is not None else {}
        fields = {**{k: v for k, v in whole.items() if k in info.writable}, **fields}
    if gone and entry["op"] == "delete":
        _set_shadow(db, entry, _FORGET if not _later(db, entry) else None)
        return
    op = "delete" if entry["op"] == "delete" and resolution.kind == "client" else "save"
    db.execute(
        "INSERT INTO sbsync_outbox (model, pk, op, fields, base_version, created) VALUES (?, ?, ?, ?, ?, ?)",
        (
            info.label,
            entry["pk"],
            op,
            json.dumps(fields),
            None if gone else result.get("_version"),
            int(gone),
        ),
    )
    _set_shadow(db, entry, None if gone else shadow)


def _refuse(
    replica: Replica, entry: sqlite3.Row, result: dict[str, Any], batch_id: str, report: SyncReport
) -> None:
    db = replica.store.db
    info = replica.models().get(entry["model"])
    local = {"_deleted": True} if entry["op"] == "delete" else json.loads(entry["fields"])
    errors = result.get("errors") or {"non_field_errors": [result.get("detail", "")]}
    _remember(db, entry, result["status"], local, None, None, errors, "server", batch_id)
    report.conflicts += 1
    db.execute("DELETE FROM sbsync_outbox WHERE seq = ?", (entry["seq"],))
    if not _later(db, entry):
        if info is not None:
            _show(replica, info, json.loads(entry["pk"]), _shadow(db, entry))
        _set_shadow(db, entry, _FORGET)


def _remember(
    db: sqlite3.Connection,
    entry: sqlite3.Row,
    kind: str,
    local: dict[str, Any],
    server: dict[str, Any] | None,
    server_version: int | None,
    errors: Any,
    resolution: str,
    batch_id: str | None,
) -> None:
    db.execute(
        "INSERT INTO sbsync_conflicts (model, pk, kind, local, base_version, server, server_version, errors, "
        "resolution, batch_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            entry["model"],
            entry["pk"],
            kind,
            json.dumps(local),
            entry["base_version"],
            None if server is None else json.dumps(server),
            server_version,
            None if errors is None else json.dumps(errors),
            resolution,
            batch_id,
        ),
    )


def _show(replica: Replica, info: ModelInfo, pk: Any, row: dict[str, Any] | None) -> None:
    """Make the local row the given state (None: no row)."""
    if not info.pull:
        return
    if row is None:
        replica.store.delete_rows(info.label, info.pk, [pk])
    else:
        replica.store.write_rows(info.label, [info.encode(row)])


def _server_row(row: Any, version: Any) -> dict[str, Any] | None:
    if not isinstance(row, dict):
        return None
    out = {k: v for k, v in row.items() if k != "_model"}
    out.setdefault("_version", version)
    return out


_FORGET = object()


def _set_shadow(db: sqlite3.Connection, entry: sqlite3.Row, row: Any) -> None:
    if row is _FORGET:
        db.execute("DELETE FROM sbsync_shadow WHERE model = ? AND pk = ?", (entry["model"], entry["pk"]))
    else:
        db.execute(
            "INSERT OR REPLACE INTO sbsync_shadow (model, pk, row) VALUES (?, ?, ?)",
            (entry["model"], entry["pk"], None if row is None else json.dumps(row)),
        )


def _shadow(db: sqlite3.Connection, entry: sqlite3.Row) -> dict[str, Any] | None:
    row = db.execute(
        "SELECT row FROM sbsync_shadow WHERE model = ? AND pk = ?", (entry["model"], entry["pk"])
    ).fetchone()
    return None if row is None or row[0] is None else dict(json.loads(row[0]))


def _later(db: sqlite3.Connection, entry: sqlite3.Row) -> bool:
    return (
        db.execute(
            "SELECT 1 FROM sbsync_outbox WHERE model = ? AND pk = ? AND seq <> ?",
            (entry["model"], entry["pk"], entry["seq"]),
        ).fetchone()
        is not None
    )
