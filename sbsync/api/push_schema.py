"""The OpenAPI description of push and job answers (documentation only: push validates its own input,
sbsync/sync/push/envelope.py). Each component is one class, so every use shares one schema."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, inline_serializer
from rest_framework import serializers

from sbsync.enums import JobStatus, RecordStatus
from sbsync.sync.push.envelope import MAX_KEY_LENGTH

PUSH_STATUSES = ["success", "partial", "error"]

PushRequest = inline_serializer(
    "PushRequest",
    {
        "data": serializers.ListField(
            child=serializers.DictField(),
            help_text='Records: {"_model": "app.Model", "<pk>": ..., "<field>": ..., "_version": n, "_deleted": true}',
        ),
        "atomic": serializers.BooleanField(
            required=False, help_text="All or nothing (409 when any record fails)."
        ),
        "dry_run": serializers.BooleanField(required=False, help_text="Check and report, write nothing."),
        "async": serializers.BooleanField(required=False, help_text="Queue the push as a job: 202."),
        "batch_id": serializers.RegexField(
            r"\S", required=False, max_length=MAX_KEY_LENGTH, help_text="Idempotency key of the batch."
        ),
        "organization": serializers.CharField(
            required=False, min_length=1, help_text="Organization slug (or X-Sync-Organization)."
        ),
    },
)


class PushRecordResult(serializers.Serializer[dict[str, Any]]):
    index = serializers.IntegerField()
    _model = serializers.CharField()
    id = serializers.JSONField(required=False, help_text="The row's primary key (number or string).")
    status = serializers.ChoiceField(choices=RecordStatus.choices)
    _version = serializers.IntegerField(required=False)
    # A field named like Serializer.errors: DRF's metaclass moves declared fields off the class, so the
    # property stays; the stubs see an override.
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()), required=False
    )
    detail = serializers.CharField(required=False)
    server = serializers.DictField(
        required=False, allow_null=True, help_text="Conflicts, with can_read: the row."
    )


class PushModelCounts(serializers.Serializer[dict[str, Any]]):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    deleted = serializers.IntegerField()


class PushResponse(serializers.Serializer[dict[str, Any]]):
    status = serializers.ChoiceField(choices=PUSH_STATUSES)
    success_count = serializers.IntegerField()
    error_count = serializers.IntegerField()
    processed_models = serializers.DictField(child=PushModelCounts())
    results = PushRecordResult(many=True)
    processing_time = serializers.FloatField()
    sync_id = serializers.UUIDField()
    dry_run = serializers.BooleanField(required=False, help_text="Present (true) for dry runs.")


class PushErrorResponse(serializers.Serializer[dict[str, Any]]):
    """The error shape of sbsync/docs/protocol.md section 1; when records were read, the push response too."""

    error = serializers.CharField()
    detail = serializers.CharField()
    # A field named like Serializer.errors: DRF's metaclass moves declared fields off the class, so the
    # property stays; the stubs see an override.
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()), required=False
    )
    status = serializers.ChoiceField(choices=PUSH_STATUSES, required=False)
    success_count = serializers.IntegerField(required=False)
    error_count = serializers.IntegerField(required=False)
    processed_models = serializers.DictField(child=PushModelCounts(), required=False)
    results = PushRecordResult(many=True, required=False)
    processing_time = serializers.FloatField(required=False)
    sync_id = serializers.UUIDField(required=False)
    dry_run = serializers.BooleanField(required=False)


class PushJobAccepted(serializers.Serializer[dict[str, Any]]):
    job = serializers.UUIDField()
    status_url = serializers.URLField()


class PushJob(serializers.Serializer[dict[str, Any]]):
    job = serializers.UUIDField()
    status = serializers.ChoiceField(choices=JobStatus.choices)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    status_code = serializers.IntegerField(required=False, help_text="done: the status the push answered.")
    result = serializers.DictField(required=False, help_text="done: the body the push answered.")
    error = serializers.CharField(required=False, help_text="failed: why.")


ORGANIZATION_HEADER = OpenApiParameter(
    "X-Sync-Organization",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="Slug of the organization to act in; needed when you belong to several.",
)
IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": r"\S"},
    OpenApiParameter.HEADER,
    required=False,
    description="Like batch_id: a repeated key replays the stored answer; another body with it is 409.",
)
