"""Push bookkeeping: idempotency records (replayed answers) and async push jobs."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import User
from django.db import models

from sbsync.enums import JobStatus
from sbsync.models.tenancy import Organization


class IdempotencyRecordQuerySet(models.QuerySet["IdempotencyRecord"]):
    def expired(self, now: datetime) -> IdempotencyRecordQuerySet:
        return self.filter(expires_at__lt=now)


class IdempotencyRecord(models.Model):
    """The stored answer to a push that carried a ``batch_id`` or ``Idempotency-Key``.

    Unique per user, organization and key, so two identical requests racing each other insert one row:
    the loser waits on the unique index and then replays the winner's answer.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    body_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    objects = IdempotencyRecordQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organization", "key"], name="sbsync_idempotency_unique")
        ]

    def __str__(self) -> str:
        return f"{self.key} by {self.user_id} in {self.organization_id}"


class SyncJobQuerySet(models.QuerySet["SyncJob"]):
    def for_user(self, user: User) -> SyncJobQuerySet:
        return self.filter(user=user)


class SyncJob(models.Model):
    """An async push (``"async": true``): queued, run by the Huey consumer, its answer kept here."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sbsync_jobs")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="sync_jobs")
    status = models.CharField(
        max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED, db_index=True
    )
    payload = models.JSONField()
    result = models.JSONField(null=True, blank=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)  # runs started, a run cut off included
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = SyncJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"job {self.code} ({self.status})"
