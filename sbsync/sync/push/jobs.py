"""Async pushes (``"async": true``): the request stores a SyncJob and queues it; the Huey consumer runs
it (``bulk_sync_operation`` in sbsync/tasks.py) exactly like a synchronous push, and keeps the answer.

A job moves ``queued`` → ``running`` → ``done`` (with the status code and body the push would have
answered, 4xx included) or ``failed`` (the push raised; the error is in the server log). Only the user who
queued a job can read it.

A job runs under an idempotency key (its ``batch_id``, or ``job:<code>`` without one), so running it
again never applies it twice: a run cut off before its transaction committed left nothing behind, and
one cut off after it gets the stored answer back. A consumer killed in the middle of a job leaves it
``running``; ``recover_interrupted_jobs`` (called when the consumer starts) queues it again, up to
``MAX_ATTEMPTS`` runs in all, then marks it ``failed`` with the reason.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any

from django.db.models import F
from django.utils import timezone

from sbsync.access import Access, access_for
from sbsync.enums import JobStatus
from sbsync.errors import ProtocolError, error_body
from sbsync.models import SyncJob
from sbsync.sync.push.envelope import PushEnvelope, parse_envelope
from sbsync.sync.push.serve import PushAnswer, serve_push
from sbsync.sync.push.validation import NUL_CHARACTER, contains_nul

logger = logging.getLogger("sbsync.sync")
FAILED_MESSAGE = "The push could not be run; the server log has the details."
MAX_ATTEMPTS = 3
INTERRUPTED_MESSAGE = (
    "The task consumer stopped while running this push {attempts} times; it was not applied. Push it again."
)


def create_push_job(*, access: Access, envelope: PushEnvelope, idempotency_key: str | None) -> SyncJob:
    """Store a queued job for ``envelope`` (the key goes in as ``batch_id``). Side effect: one insert.
    The caller enqueues it once the transaction commits. A body holding NUL characters is refused first
    (ProtocolError 400): the job stores it as it came, and PostgreSQL stores no NUL in jsonb."""
    payload = {k: val for k, val in envelope.body.items() if k not in ("async", "organization")}
    nul = {
        f"data.{index}": [NUL_CHARACTER]
        for index, record in enumerate(envelope.records)
        if contains_nul(record)
    }
    if nul or contains_nul({k: v for k, v in payload.items() if k != "data"}):
        raise ProtocolError(
            400, "validation_error", f"{NUL_CHARACTER} An async push stores its body as sent.", nul or None
        )
    if idempotency_key is not None:
        payload["batch_id"] = idempotency_key
    return SyncJob.objects.create(user=access.user, organization=access.organization, payload=payload)


def job_for_user(user: Any, code: str) -> SyncJob | None:
    """The job ``code`` of ``user``; None for another user's job, an unknown or a malformed code."""
    try:
        parsed = uuid.UUID(str(code))
    except ValueError:
        return None
    return SyncJob.objects.for_user(user).filter(code=parsed).first()


def describe_job(job: SyncJob) -> dict[str, Any]:
    data: dict[str, Any] = {
        "job": str(job.code),
        "status": job.status,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
    }
    if job.status == JobStatus.DONE:
        data.update(status_code=job.status_code, result=job.result)
    elif job.status == JobStatus.FAILED:
        data["error"] = job.error
    return data


def run_push_job(*, job_id: int) -> str | None:
    """Run a queued job. Returns its final status, or None when it is gone or already taken.

    Side effects: the job row (status, times, answer); those of ``serve_push``.
    """
    # Compare-and-set: a job delivered twice runs once.
    if not SyncJob.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, started_at=timezone.now(), attempts=F("attempts") + 1
    ):
        return None
    job = SyncJob.objects.select_related("user", "organization").get(pk=job_id)
    try:
        answer = _answer(job)
    except Exception:
        logger.exception("Async push job %s failed", job.code)
        SyncJob.objects.filter(pk=job_id).update(
            status=JobStatus.FAILED, error=FAILED_MESSAGE, finished_at=timezone.now()
        )
        return JobStatus.FAILED
    SyncJob.objects.filter(pk=job_id).update(
        status=JobStatus.DONE, status_code=answer.status_code, result=answer.body, finished_at=timezone.now()
    )
    return JobStatus.DONE


def _answer(job: SyncJob) -> PushAnswer:
    access = access_for(job.user, job.organization)
    if access is None:
        return PushAnswer(
            403, error_body("not_a_member", "You are no longer an active member of this organization.")
        )
    try:
        envelope = parse_envelope(job.payload)
    except ProtocolError as exc:  # the limits may have changed since the job was queued
        return PushAnswer(exc.status, exc.body())
    key = envelope.batch_id or f"job:{job.code}"
    return serve_push(access=access, envelope=envelope, idempotency_key=key)


def recover_interrupted_jobs(*, started_before: datetime) -> list[int]:
    """Jobs a stopped consumer left ``running`` (started before ``started_before``, when the running
    consumer started): back to ``queued`` (returned, for the caller to enqueue), or ``failed`` after
    MAX_ATTEMPTS runs. One consumer per queue (sbsync/docs/tasks.md), so such a job is nobody's.
    Side effects: the jobs' rows, each changed by compare-and-set (two callers recover a job once)."""
    requeued = []
    stale = SyncJob.objects.filter(status=JobStatus.RUNNING, started_at__lt=started_before)
    for job_id, attempts in stale.values_list("pk", "attempts"):
        running = SyncJob.objects.filter(pk=job_id, status=JobStatus.RUNNING)
        if attempts >= MAX_ATTEMPTS:
            running.update(
                status=JobStatus.FAILED,
                error=INTERRUPTED_MESSAGE.format(attempts=attempts),
                finished_at=timezone.now(),
            )
            logger.warning("Async push job %s failed: interrupted %d times", job_id, attempts)
        elif running.update(status=JobStatus.QUEUED):
            logger.warning("Async push job %s was interrupted; queued again", job_id)
            requeued.append(job_id)
    return requeued
