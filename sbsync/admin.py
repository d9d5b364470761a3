from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from knox.models import AuthToken
from simple_history.admin import SimpleHistoryAdmin

from sbsync.models import (
    DataFilter,
    DiscoveryConfig,
    IdempotencyRecord,
    Membership,
    ModelPermission,
    Organization,
    PerformanceAnalysis,
    PerformanceMetrics,
    ServiceToken,
    SyncJob,
    SyncLog,
    SyncMetadata,
    SyncRecord,
    SyncReport,
    UserSyncMetadata,
)

# "View on site" of a change page opens the same object in the staff UI (sbsync/docs/ui.md), which links
# back here.


@admin.register(Organization)
class OrganizationAdmin(SimpleHistoryAdmin):
    def view_on_site(self, obj: Organization) -> str:
        return reverse("sbsync:organization-detail", args=[obj.slug])

    list_display = ["name", "slug", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["created_at", "updated_at"]


@admin.register(Membership)
class MembershipAdmin(SimpleHistoryAdmin):
    list_display = ["user", "organization", "group", "is_active", "created_at"]
    list_filter = ["organization", "group", "is_active"]
    list_select_related = ["user", "organization", "group"]
    search_fields = ["user__username", "organization__name"]
    raw_id_fields = ["user"]


@admin.register(ModelPermission)
class ModelPermissionAdmin(SimpleHistoryAdmin):
    def view_on_site(self, obj: ModelPermission) -> str:
        query = urlencode({"organization": obj.organization.slug, "groups": obj.group_id})
        return f"{reverse('sbsync:permission-matrix')}?{query}"

    list_display = [
        "organization",
        "group",
        "model_label",
        "can_push",
        "can_pull",
        "can_create",
        "can_update",
        "can_delete",
        "can_read",
    ]
    list_filter = ["organization", "group"]
    list_select_related = ["organization", "group"]
    search_fields = ["model_label"]


@admin.register(DataFilter)
class DataFilterAdmin(SimpleHistoryAdmin):
    def view_on_site(self, obj: DataFilter) -> str:
        return reverse("sbsync:data-filter-edit", args=[obj.pk])

    list_display = ["name", "organization", "group", "model_label", "is_active"]
    list_filter = ["organization", "group", "is_active"]
    list_select_related = ["organization", "group"]
    search_fields = ["name", "model_label"]


@admin.register(DiscoveryConfig)
class DiscoveryConfigAdmin(SimpleHistoryAdmin):
    list_display = ["__str__", "auto_discover_models", "updated_at"]


@admin.register(SyncLog)
class SyncLogAdmin(admin.ModelAdmin):
    def view_on_site(self, obj: SyncLog) -> str:
        return reverse("sbsync:sync-log-detail", args=[obj.code])

    list_display = [
        "timestamp",
        "operation",
        "status",
        "user",
        "organization",
        "model_name",
        "object_count",
        "processing_time",
    ]
    list_filter = ["operation", "status", "organization"]
    list_select_related = ["user", "organization"]
    search_fields = ["model_name", "user__username", "error_message"]
    raw_id_fields = ["user"]
    readonly_fields = ["code"]
    date_hierarchy = "timestamp"


@admin.register(SyncMetadata)
class SyncMetadataAdmin(admin.ModelAdmin):
    list_display = ["model_name", "organization", "last_sync", "total_synced"]
    list_select_related = ["organization"]
    search_fields = ["model_name"]


@admin.register(UserSyncMetadata)
class UserSyncMetadataAdmin(admin.ModelAdmin):
    list_display = ["user", "organization", "model_name", "last_sync", "total_synced"]
    list_select_related = ["user", "organization"]
    search_fields = ["model_name", "user__username"]
    raw_id_fields = ["user"]


@admin.register(PerformanceMetrics)
class PerformanceMetricsAdmin(admin.ModelAdmin):
    def view_on_site(self, obj: PerformanceMetrics) -> str:
        """The sample's sync log while log retention keeps it, else the metrics page."""
        if obj.log is not None:
            return reverse("sbsync:sync-log-detail", args=[obj.log.code])
        return reverse("sbsync:metrics")

    list_display = [
        "timestamp",
        "operation_type",
        "status",
        "model_name",
        "batch_size",
        "records_applied",
        "processing_time",
        "query_count",
        "memory_usage",
    ]
    list_filter = ["operation_type", "status"]
    raw_id_fields = ["log"]  # a select of every sync log would not load
    search_fields = ["model_name"]
    date_hierarchy = "timestamp"


@admin.register(SyncRecord)
class SyncRecordAdmin(admin.ModelAdmin):
    list_display = ["model_label", "object_pk", "scope", "version", "seq", "deleted", "changed_at"]
    list_filter = ["deleted", "model_label"]
    search_fields = ["object_pk"]
    readonly_fields = ["scope", "model_label", "object_pk", "version", "seq", "deleted", "changed_at"]


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin):
    list_display = ["key", "user", "organization", "status_code", "created_at", "expires_at"]
    list_select_related = ["user", "organization"]
    raw_id_fields = ["user"]
    search_fields = ["key"]


@admin.register(SyncJob)
class SyncJobAdmin(admin.ModelAdmin):
    list_display = ["code", "user", "organization", "status", "created_at", "finished_at"]
    list_filter = ["status"]
    list_select_related = ["user", "organization"]
    raw_id_fields = ["user"]
    readonly_fields = ["code"]


@admin.register(SyncReport)
class SyncReportAdmin(admin.ModelAdmin):
    list_display = [
        "date",
        "organization",
        "model_name",
        "pushes",
        "pulls",
        "records_pushed",
        "records_pulled",
        "errors",
    ]
    list_filter = ["organization"]
    list_select_related = ["organization"]
    date_hierarchy = "date"


@admin.register(PerformanceAnalysis)
class PerformanceAnalysisAdmin(admin.ModelAdmin):
    list_display = ["created_at", "period_days"]


class ReadOnlyTokenAdmin(admin.ModelAdmin):
    """Tokens are issued by logging in (``auth/token/``) and by the staff UI's tokens page, which bound
    who may act as whom and give every token an expiry; the admin lists and deletes them only."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ServiceToken)
class ServiceTokenAdmin(ReadOnlyTokenAdmin):
    def view_on_site(self, obj: ServiceToken) -> str:
        """The token's audit trail in the staff UI: who issued it, and who revoked it."""
        return f"{reverse('sbsync:audit-trails')}?{urlencode({'model': 'servicetoken', 'object': obj.pk})}"

    list_display = ["name", "token_key", "user", "issued_by", "created_at", "expiry", "revoked_at"]
    list_select_related = ["user", "issued_by"]
    raw_id_fields = ["user", "issued_by", "revoked_by"]
    readonly_fields = ["digest", "token_key"]


# knox's own admin creates tokens for any user, superusers included, that never expire, for anyone
# holding knox.add_authtoken. Replaced (knox comes before sbsync in INSTALLED_APPS, so its admin module
# registered first) by one that lists and revokes only.
if admin.site.is_registered(AuthToken):
    admin.site.unregister(AuthToken)


@admin.register(AuthToken)
class AuthTokenAdmin(ReadOnlyTokenAdmin):
    list_display = ["token_key", "user", "created", "expiry"]
    list_select_related = ["user"]
    search_fields = ["token_key", "user__username"]
    fields = ["token_key", "user", "created", "expiry"]
