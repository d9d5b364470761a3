"""Long-lived API tokens that staff issue for service clients from the UI."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ServiceToken(models.Model):
    """A name and an issuer for a knox token. The token itself stays in knox's table, stored hashed; this
    row points at it by digest (knox's token model is swappable, so no foreign key is hard-wired) and
    keeps the token's public prefix for display. The token is active while knox still holds the digest."""

    digest = models.CharField(max_length=128, unique=True)
    token_key = models.CharField(max_length=25)
    name = models.CharField(max_length=100)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sbsync_service_tokens"
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expiry = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [("issue_token_for_others", "Can issue API tokens that act as another user")]

    def __str__(self) -> str:
        return f"{self.name} ({self.token_key}…)"
