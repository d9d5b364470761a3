"""Where a WatermelonDB client stands: the row behind the ``timestamp`` a WatermelonDB pull returns.

WatermelonDB stores one number, ``lastPulledAt``, and sends it back with its next pull and push. sbsync's
positions are per scope and model and carry the view they were served under (see sync/cursor.py), which no
JavaScript-safe integer can hold. So each WatermelonDB pull stores a checkpoint with the cursors it reached,
and its id is the timestamp the client keeps (sbsync/sync/watermelon/timestamps.py).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from sbsync.models.tenancy import Organization


class WatermelonCheckpoint(models.Model):
    """The cursors one WatermelonDB pull reached, for one user in one organization.

    ``cursors``: model label → the pull cursor the client stands at. ``created``: model label → primary
    keys of rows that pushes naming this checkpoint created, so the next pull sends them as ``updated``
    (the client already holds them). ``previous``: the checkpoint the pull started from; it is obsolete
    once this one is presented, since the client only presents a timestamp it has applied.
    """

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    previous = models.BigIntegerField(null=True, blank=True)
    cursors = models.JSONField(default=dict)
    created = models.JSONField(default=dict)
    unfinished = models.JSONField(default=list)
    created_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return (
            f"WatermelonDB checkpoint {self.pk} of user {self.user_id} in organization {self.organization_id}"
        )
