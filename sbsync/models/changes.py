"""The change index that pull reads. See sbsync/sync/changes/index.py for how positions are assigned.

One ``SyncRecord`` per synced row and scope: its current version, whether it is deleted (a tombstone),
and ``seq``, its position in the scope's change order. A change re-pends the record (``seq = NULL``) and
bumps ``version``; a stamping step assigns ``seq`` values in commit order. Pull is a range scan of
``(scope, model_label, seq)``, so each row appears once, in its latest state.

``scope`` is the organization's id for tenant models and 0 for shared (tenant-less) models. It is a plain
integer rather than a foreign key so one unique constraint covers both (upserts need a full unique
index), and so tombstones outlive a row's move to another organization.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

SHARED_SCOPE = 0


class SyncRecord(models.Model):
    scope = models.BigIntegerField()
    model_label = models.CharField(max_length=100)
    object_pk = models.CharField(max_length=255)
    version = models.BigIntegerField(default=1)
    seq = models.BigIntegerField(null=True, blank=True)
    deleted = models.BooleanField(default=False)
    changed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "model_label", "object_pk"], name="sbsync_syncrecord_unique"
            )
        ]
        indexes = [
            models.Index(fields=["scope", "model_label", "seq"], name="sbsync_syncrecord_pull"),
            # (scope, seq), not (scope): "scope = ? AND seq IS NULL" then constrains both columns, so
            # SQLite's planner picks this index over the pull index, whose (scope) prefix it otherwise
            # scanned through every record of the scope (a pull's pending check grew with the table).
            models.Index(
                fields=["scope", "seq"], condition=Q(seq__isnull=True), name="sbsync_syncrecord_pending_seq"
            ),
            # Tombstones only, for their compaction: every change moves a record's changed_at, and a
            # full (deleted, changed_at) index was written again by every pushed row.
            models.Index(
                fields=["changed_at"], condition=Q(deleted=True), name="sbsync_syncrecord_tombstones"
            ),
        ]

    def __str__(self) -> str:
        state = "deleted" if self.deleted else f"v{self.version}"
        return f"{self.model_label}#{self.object_pk} in scope {self.scope}: {state} @ {self.seq}"


class ChangeClock(models.Model):
    """Per scope: the last ``seq`` handed out, and the tombstone horizon (cursors below it get 410)."""

    scope = models.BigIntegerField(primary_key=True)
    seq = models.BigIntegerField(default=0)
    horizon = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"scope {self.scope} at {self.seq} (horizon {self.horizon})"


class StampCheckpoint(models.Model):
    """When each stamping run ended and the seq it reached: turns a pull's timestamp into a position."""

    scope = models.BigIntegerField()
    seq = models.BigIntegerField()
    stamped_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["scope", "stamped_at"], name="sbsync_checkpoint_time")]

    def __str__(self) -> str:
        return f"scope {self.scope} reached {self.seq} at {self.stamped_at}"


class TrackedModel(models.Model):
    """A model whose pre-existing rows have been entered in the change index for a scope (backfill)."""

    scope = models.BigIntegerField()
    model_label = models.CharField(max_length=100)
    backfilled_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "model_label"], name="sbsync_trackedmodel_unique")
        ]

    def __str__(self) -> str:
        return f"{self.model_label} in scope {self.scope}"
