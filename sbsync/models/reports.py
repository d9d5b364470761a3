"""What the periodic tasks store: daily statistics and performance analyses."""

from __future__ import annotations

from django.db import models

from sbsync.models.tenancy import Organization


class SyncReport(models.Model):
    """Statistics of one day, per organization and model (``generate_sync_report``)."""

    date = models.DateField(db_index=True)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="sync_reports")
    model_name = models.CharField(max_length=100)
    pushes = models.IntegerField(default=0)
    pulls = models.IntegerField(default=0)
    records_pushed = models.BigIntegerField(default=0)
    records_pulled = models.BigIntegerField(default=0)
    errors = models.IntegerField(default=0)
    average_processing_time = models.FloatField(default=0.0)
    created_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-date", "organization__name", "model_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["date", "organization", "model_name"], name="sbsync_syncreport_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.organization} {self.model_name}"


class PerformanceAnalysis(models.Model):
    """One run of ``performance_analysis``: the figures it looked at and the suggestions it made."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    period_days = models.PositiveIntegerField(default=7)
    summary = models.JSONField(default=dict)
    suggestions = models.JSONField(default=list)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "performance analyses"

    def __str__(self) -> str:
        return f"analysis of {self.period_days} days at {self.created_at:%Y-%m-%d %H:%M}"
