"""Long-lived API tokens that staff issue for service clients from the UI."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords


class ServiceToken(models.Model):
    """A name and an issuer for a knox token. The token itself stays in knox's table, stored hashed; this
    row points at it by digest (knox's token model is swappable, so no foreign key is hard-wired) and
    keeps the token's public prefix for display. The token is active while knox still holds the digest.

    Issuing and revoking are in the audit trail: the history keeps every field but the digest (issued:
    name, prefix, user, issuer, expiry; revoked: ``revoked_at`` and ``revoked_by``), never the token."""

    digest = models.CharField(max_length=128, unique=True)
    token_key = models.CharField(max_length=25, verbose_name="starts with")
    name = models.CharField(max_length=100)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sbsync_service_tokens"
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expiry = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True, verbose_name="revoked")
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    history = HistoricalRecords(excluded_fields=["digest"])

    class Meta:
        verbose_name = "API token"
        ordering = ["-created_at"]
        permissions = [("issue_token_for_others", "Can issue API tokens that act as another user")]

    def __str__(self) -> str:
        return f"{self.name} ({self.token_key}…)"
