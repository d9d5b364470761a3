"""sbsync's models, one module per aggregate; import them from here."""

from __future__ import annotations

from sbsync.models.access import ConfigGeneration, DataFilter, DiscoveryConfig, ModelPermission
from sbsync.models.changes import SHARED_SCOPE, ChangeClock, StampCheckpoint, SyncRecord, TrackedModel
from sbsync.models.jobs import IdempotencyRecord, SyncJob
from sbsync.models.logs import PerformanceMetrics, SyncLog, SyncMetadata, UserSyncMetadata
from sbsync.models.reports import PerformanceAnalysis, SyncReport
from sbsync.models.tenancy import Membership, Organization
from sbsync.models.tokens import ServiceToken
from sbsync.models.watermelon import WatermelonCheckpoint

__all__ = [
    "SHARED_SCOPE",
    "ChangeClock",
    "ConfigGeneration",
    "DataFilter",
    "DiscoveryConfig",
    "IdempotencyRecord",
    "Membership",
    "ModelPermission",
    "Organization",
    "PerformanceAnalysis",
    "PerformanceMetrics",
    "StampCheckpoint",
    "ServiceToken",
    "SyncJob",
    "SyncLog",
    "SyncMetadata",
    "SyncRecord",
    "SyncReport",
    "TrackedModel",
    "UserSyncMetadata",
    "WatermelonCheckpoint",
]
