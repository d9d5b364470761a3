"""The baseline's record: the shape of the demo's Customer (UUID key, organization, a few fields), a
version, and the index its keyset pull pages walk."""

from __future__ import annotations

import uuid

from django.db import models

from sbsync.models import Organization


class BareRecord(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    name = models.CharField(max_length=200)
    age = models.PositiveSmallIntegerField(null=True, blank=True)
    department = models.CharField(max_length=20, blank=True)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        indexes = [models.Index(fields=["organization", "updated_at", "id"], name="bench_bare_keyset")]

    def __str__(self) -> str:
        return self.name
