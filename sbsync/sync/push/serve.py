"""A push request as a whole, for the API view and the async job alike: idempotency, the push, the
activity records, and the answer (status code and body, sbsync/docs/protocol.md sections 1 and 4).

Status codes of a push whose envelope was valid:

* 403 ``forbidden``: every record is forbidden (unknown or disabled model, no ``can_push``, or the
  action's flag missing). Unknown and disabled models answer alike.
* 400 ``validation_error``: no record succeeded and at least one was rejected (bad input).
* 409 ``atomic_rejected``: an atomic push with any failed record, whatever the others (decided before the
  two rules above); nothing was written.
* 409 ``idempotency_conflict``: the key was used with another body.
* 200 otherwise, with ``status`` success, partial or error (a push whose only failures are conflicts
  is a 200).

Error bodies have the shape of section 1 plus the push response (status, counts, results).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from django.db import transaction

from sbsync import discovery
from sbsync.access import Access
from sbsync.enums import LogStatus, Operation, RecordStatus
from sbsync.errors import error_body
from sbsync.sync.activity import Measurement, log_status, measured, record_activity, storable
from sbsync.sync.jsondata import dumps
from sbsync.sync.push import idempotency
from sbsync.sync.push.apply import apply_push
from sbsync.sync.push.envelope import PushEnvelope
from sbsync.sync.push.items import FAILURE, PushResult
from sbsync.sync.push.locks import retrying

MAX_FLAT_ERRORS = 100


@dataclass(frozen=True)
class PushAnswer:
    status_code: int
    body: dict[str, Any]


def serve_push(*, access: Access, envelope: PushEnvelope, idempotency_key: str | None = None) -> PushAnswer:
    """Run one push request.

    Side effects, in one transaction (retried as a whole after a PostgreSQL deadlock): those of
    ``apply_push``; the idempotency record of the key (answer stored, or released when nothing was
    applied); a SyncLog and a PerformanceMetrics row and a log-file line (not for replays).
    """
    digest = idempotency.body_hash(envelope.body) if idempotency_key else ""
    return retrying(lambda: _submit(access, envelope, idempotency_key, digest))


def _submit(access: Access, envelope: PushEnvelope, key: str | None, digest: str) -> PushAnswer:
    with transaction.atomic():
        with measured() as measurement:
            claim = (
                idempotency.claim(user=access.user, organization=access.organization, key=key, digest=digest)
                if key
                else None
            )
            if claim is not None and claim.response is not None:
                return PushAnswer(claim.status_code or 200, claim.response)
            if claim is not None and claim.conflict:
                result = None
            else:
                result = apply_push(
                    access=access, records=envelope.records, atomic=envelope.atomic, dry_run=envelope.dry_run
                )
        if result is None:
            detail = "This batch_id / Idempotency-Key was already used with a different body."
            _log(access, envelope, measurement, None, [{"detail": detail}])
            return PushAnswer(409, error_body("idempotency_conflict", detail))
        status_code, body = answer_for(result)
        if envelope.dry_run:
            body["dry_run"] = True
        body = _stored_form(body)
        failures = [r for r in body["results"] if r["status"] in FAILURE]
        log = _log(access, envelope, measurement, result, failures)
        body.update(processing_time=round(measurement.seconds, 6), sync_id=str(log.code))
        if claim is not None and claim.record is not None:
            if status_code == 200:
                idempotency.store(claim.record, status_code, body)
            else:
                idempotency.release(claim.record)
    return PushAnswer(status_code, body)


def _stored_form(body: dict[str, Any]) -> Any:
    """``body`` as JSON holds it (``json_data``), with NUL turned into U+FFFD (``storable``): results
    echo client keys and values, and the answer must be storable and replayable. The walk that replaces
    NUL runs only when the JSON text holds one (orjson writes it as an escape)."""
    text = dumps(body)
    data = orjson.loads(text)
    return storable(data) if b"\\u0000" in text else data


def answer_for(result: PushResult) -> tuple[int, dict[str, Any]]:
    body = result.as_dict()
    # One rule for atomic pushes, decided first: any failed record (rejected, forbidden, conflict) is a
    # 409 with every record's result, whatever the other records did, so a client never has to tell
    # "atomic and all failed" from "not atomic".
    if result.atomic_rejected:
        return 409, error_body(
            "atomic_rejected",
            f"{result.error_count} of {len(result.results)} records failed, so nothing was written (atomic push).",
            _flat_errors(result),
            **body,
        )
    if result.all_forbidden:
        return 403, error_body("forbidden", "You may not push any of these records.", **body)
    if result.success_count == 0 and result.any_rejected:
        return 400, error_body(
            "validation_error",
            "No record could be applied: see errors and results.",
            _flat_errors(result),
            **body,
        )
    return 200, body


def _flat_errors(result: PushResult) -> dict[str, list[str]]:
    """Field errors of rejected records keyed ``data.<index>.<field>``, as in envelope errors."""
    flat: dict[str, list[str]] = {}
    for r in result.results:
        if r["status"] != RecordStatus.REJECTED:
            continue
        for name, messages in r.get("errors", {}).items():
            if len(flat) >= MAX_FLAT_ERRORS:
                return flat
            flat[f"data.{r['index']}.{name}"] = messages
    return flat


def _log(
    access: Access,
    envelope: PushEnvelope,
    measurement: Measurement,
    result: PushResult | None,
    failures: list[dict[str, Any]],
) -> Any:
    """The SyncLog of a push: the counts of its answer (a rejected atomic push is an error whatever
    the other records would have done); failed results without the server rows."""
    success = result.success_count if result else 0
    errors = result.error_count if result else len(envelope.records)
    status = LogStatus.ERROR if result is None or result.atomic_rejected else log_status(errors, success)
    return record_activity(
        user=access.user,
        organization=access.organization,
        operation=Operation.PUSH,
        status=status,
        models=requested_models(envelope),
        object_count=len(envelope.records),
        success_count=success,
        error_count=errors,
        errors=[{k: val for k, val in failure.items() if k != "server"} for failure in failures],
        request_data=envelope.body,
        measurement=measurement,
        records_applied=0 if envelope.dry_run else success,
    )


def requested_models(envelope: PushEnvelope) -> list[str]:
    """The labels of the models a push's records name, by each model's own label, in the order first
    named. A push refused as a whole (every record forbidden or invalid) names them in its log too, so
    the logs page's model filter finds it."""
    labels = dict.fromkeys(record["_model"] for record in envelope.records)
    models = (discovery.installed_model(label) for label in labels)
    return list(dict.fromkeys(model._meta.label for model in models if model is not None))
