"""What happened: one SyncLog per push or pull, performance samples, and last-sync bookkeeping."""

from __future__ import annotations

import uuid
from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone

from sbsync.enums import LogStatus, Operation
from sbsync.models.tenancy import Organization


class SyncLogQuerySet(models.QuerySet["SyncLog"]):
    def for_tenant(self, organization: Organization) -> SyncLogQuerySet:
        return self.filter(organization=organization)

    def since(self, moment: datetime) -> SyncLogQuerySet:
        return self.filter(timestamp__gte=moment)

    def older_than(self, moment: datetime) -> SyncLogQuerySet:
        return self.filter(timestamp__lt=moment)


class SyncLog(models.Model):
    """One push or pull. Every request writes one, so its indexes are only those the pages and the
    retention task read by (the user's and organization's foreign keys are led by their time indexes):
    each index more is written by every request."""

    code = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sbsync_logs",
        db_index=False,
    )
    organization = models.ForeignKey(
        Organization,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="sync_logs",
        db_index=False,
    )
    operation = models.CharField(max_length=10, choices=Operation.choices)
    status = models.CharField(max_length=10, choices=LogStatus.choices)
    model_name = models.CharField(
        max_length=100, blank=True, help_text="First model; all of them in model_names"
    )
    model_names = models.JSONField(default=list, blank=True)
    object_count = models.IntegerField(default=0)
    success_count = models.IntegerField(default=0)
    error_count = models.IntegerField(default=0)
    error_message = models.TextField(blank=True)
    errors = models.JSONField(default=list, blank=True)
    request_data = models.JSONField(blank=True, null=True)
    timestamp = models.DateTimeField(default=timezone.now, db_index=True)
    processing_time = models.FloatField(default=0.0)

    objects = SyncLogQuerySet.as_manager()

    class Meta:
        ordering = ["-timestamp", "-id"]
        indexes = [
            models.Index(fields=["organization", "-timestamp"], name="sbsync_synclog_org_time"),
            models.Index(fields=["user", "-timestamp"], name="sbsync_synclog_user_time"),
            models.Index(fields=["status", "-timestamp"], name="sbsync_synclog_status_time"),
            models.Index(fields=["model_name"], name="sbsync_synclog_model"),
        ]

    def __str__(self) -> str:
        return f"{self.operation} {self.status} by {self.user} at {self.timestamp:%Y-%m-%d %H:%M:%S}"


class SyncMetadata(models.Model):
    """Per organization and model: when it last synced and how many records moved in total. Every pull
    updates its rows, so no index covers ``last_sync`` or ``total_synced`` (PostgreSQL then updates the
    row in place, touching no index); the unique key is the only lookup."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="sync_metadata", db_index=False
    )
    model_name = models.CharField(max_length=100)
    last_sync = models.DateTimeField(default=timezone.now)
    total_synced = models.BigIntegerField(default=0)

    class Meta:
        verbose_name_plural = "sync metadata"
        constraints = [
            models.UniqueConstraint(fields=["organization", "model_name"], name="sbsync_syncmetadata_unique")
        ]

    def __str__(self) -> str:
        return f"{self.model_name} in {self.organization}: {self.total_synced}"


class UserSyncMetadata(models.Model):
    """Per user, organization and model: when that user last pulled, and how many records in total.
    Indexed as SyncMetadata is, for the same reason (the organization's key stays indexed for its
    cascade)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="sbsync_sync_metadata",
        db_index=False,
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="user_sync_metadata"
    )
    model_name = models.CharField(max_length=100)
    last_sync = models.DateTimeField(default=timezone.now)
    total_synced = models.BigIntegerField(default=0)

    class Meta:
        verbose_name_plural = "user sync metadata"
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organization", "model_name"], name="sbsync_usersyncmetadata_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} / {self.model_name} in {self.organization}"


class PerformanceMetricsQuerySet(models.QuerySet["PerformanceMetrics"]):
    def since(self, moment: datetime) -> PerformanceMetricsQuerySet:
        return self.filter(timestamp__gte=moment)

    def older_than(self, moment: datetime) -> PerformanceMetricsQuerySet:
        return self.filter(timestamp__lt=moment)


class PerformanceMetrics(models.Model):
    """One sample per push or pull. ``status`` is its log's: a refused request (ERROR) did no work, so
    the metrics page and the API leave it out of records per second while still showing it as refused.
    ``batch_size`` is the records the request sent (or a pull sent back); ``records_applied`` those it
    actually moved: a push's records written (created, updated, deleted or unchanged), none for a dry run
    or a refused request; a pull's records sent. Throughput counts ``records_applied``, stored on the
    sample because ``log`` points at the request's SyncLog only until log retention deletes the log (the
    sample outlives it)."""

    operation_type = models.CharField(max_length=20)  # indexed by sbsync_perf_op_time
    status = models.CharField(max_length=10, choices=LogStatus.choices, default=LogStatus.SUCCESS)
    log = models.ForeignKey(
        SyncLog, null=True, blank=True, on_delete=models.SET_NULL, related_name="performance_metrics"
    )
    model_name = models.CharField(max_length=100, blank=True)
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="performance_metrics"
    )
    batch_size = models.IntegerField()
    records_applied = models.PositiveIntegerField(
        default=0, help_text="Records the request actually moved (throughput counts these)"
    )
    processing_time = models.FloatField()
    memory_usage = models.FloatField(
        null=True, blank=True, help_text="Resident memory in MB after the operation"
    )
    query_count = models.IntegerField()
    timestamp = models.DateTimeField(default=timezone.now, db_index=True)

    objects = PerformanceMetricsQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "performance metrics"
        ordering = ["-timestamp", "-id"]
        # Every request writes a sample: only the indexes the pages read by (see SyncLog).
        indexes = [
            models.Index(fields=["operation_type", "-timestamp"], name="sbsync_perf_op_time"),
            models.Index(fields=["model_name"], name="sbsync_perf_model"),
        ]

    def __str__(self) -> str:
        return f"{self.operation_type} {self.model_name} {self.batch_size} in {self.processing_time:.3f}s"

    @property
    def records_per_second(self) -> float | None:
        """Records applied over processing time; None for a refused request, which moved no records."""
        if self.status == LogStatus.ERROR:
            return None
        return self.records_applied / self.processing_time if self.processing_time > 0 else 0.0
