"""Idempotent pushes: a repeated ``batch_id`` (or ``Idempotency-Key``) gets the stored answer back.

The key's ``IdempotencyRecord`` is inserted at the start of the push transaction. A twin request with
the same key, arriving while the first runs, blocks on the unique index (PostgreSQL) or on SQLite's
write lock until the first commits, then finds the stored answer and replays it: the batch is applied
once. The same key with another body is a 409. Only applied answers (200) are kept; a push refused as a
whole wrote nothing, so its key is released and a retry runs again. An answer expires after
IDEMPOTENCY_TTL; the key can then be used afresh.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson
from django.db import IntegrityError, transaction
from django.utils import timezone

from sbsync import conf
from sbsync.models import IdempotencyRecord, Organization

ATTEMPTS = 3


@dataclass(frozen=True)
class Claim:
    """The outcome of claiming a key: ours to fill (``record``), a stored answer to replay
    (``status_code``, ``response``), or a key already used with another body (``conflict``)."""

    record: IdempotencyRecord | None = None
    status_code: int | None = None
    response: dict[str, Any] | None = None
    conflict: bool = False


NOT_HASHED = frozenset({"async", "batch_id", "organization"})


def body_hash(body: dict[str, Any]) -> str:
    """What identifies a request under its key: the envelope, minus how it is run (``async``) and what
    the record's unique key already holds (the key itself, the organization)."""
    data = {k: v for k, v in body.items() if k not in NOT_HASHED}
    return hashlib.sha256(orjson.dumps(data, option=orjson.OPT_SORT_KEYS)).hexdigest()


def claim(*, user: Any, organization: Organization, key: str, digest: str) -> Claim:
    """Claim ``key`` inside the caller's transaction. Side effects: inserts (or takes over an expired)
    IdempotencyRecord, held locked until the transaction ends."""
    now = timezone.now()
    expires_at = now + conf.as_timedelta(conf.get("IDEMPOTENCY_TTL"))
    for _ in range(ATTEMPTS):
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    user=user, organization=organization, key=key, body_hash=digest, expires_at=expires_at
                )
            return Claim(record=record)
        except IntegrityError:
            pass
        existing = (
            IdempotencyRecord.objects.select_for_update()
            .filter(user=user, organization=organization, key=key)
            .first()
        )
        if existing is None:
            continue  # removed by the cleanup task since our insert failed: insert again
        if existing.expires_at <= now:
            existing.body_hash, existing.expires_at = digest, expires_at
            existing.status_code, existing.response = None, None
            existing.save(update_fields=["body_hash", "expires_at", "status_code", "response"])
            return Claim(record=existing)
        if existing.body_hash != digest:
            return Claim(conflict=True)
        return Claim(status_code=existing.status_code, response=existing.response)
    raise IntegrityError(f"Could not claim idempotency key {key!r}")


def store(record: IdempotencyRecord, status_code: int, response: dict[str, Any]) -> None:
    record.status_code, record.response = status_code, response
    record.save(update_fields=["status_code", "response"])


def release(record: IdempotencyRecord) -> None:
    record.delete()
