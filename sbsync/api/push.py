"""Push (PROTOCOL.md section 4) and async push jobs: parse the envelope, find the caller's organization,
run the push (sbsync/sync/submit.py) or queue it, answer."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from sbsync.api.context import request_access
from sbsync.api.decorators import sync_endpoint
from sbsync.api.errors import ApiError
from sbsync.api.schema import ErrorResponse
from sbsync.enums import JobStatus, RecordStatus
from sbsync.sync.envelope import EnvelopeError, PushEnvelope, parse_envelope
from sbsync.sync.jobs import create_push_job, describe_job, job_for_user
from sbsync.sync.submit import submit_push
from sbsync.tasks import bulk_sync_operation

PushRequest = inline_serializer(
    "PushRequest",
    {
        "data": serializers.ListField(
            child=serializers.DictField(),
            help_text='Records: {"_model": "app.Model", "<pk>": ..., "<field>": ..., "_version": n, "_deleted": true}',
        ),
        "atomic": serializers.BooleanField(
            required=False, default=False, help_text="All or nothing (409 when any record fails)."
        ),
        "dry_run": serializers.BooleanField(
            required=False, default=False, help_text="Check and report, write nothing."
        ),
        "async": serializers.BooleanField(
            required=False, default=False, help_text="Queue the push as a job: 202."
        ),
        "batch_id": serializers.CharField(
            required=False, max_length=255, help_text="Idempotency key of this batch."
        ),
        "organization": serializers.CharField(
            required=False, help_text="Organization slug (or X-Sync-Organization)."
        ),
    },
)


def record_result(*, required: bool) -> serializers.Serializer:
    return inline_serializer(
        "PushRecordResult",
        {
            "index": serializers.IntegerField(),
            "_model": serializers.CharField(),
            "id": serializers.JSONField(
                required=False, help_text="The row's primary key (number or string)."
            ),
            "status": serializers.ChoiceField(choices=RecordStatus.values),
            "_version": serializers.IntegerField(required=False),
            "errors": serializers.DictField(
                child=serializers.ListField(child=serializers.CharField()), required=False
            ),
            "detail": serializers.CharField(required=False),
            "server": serializers.DictField(
                required=False, allow_null=True, help_text="Conflicts, with can_read: the current row."
            ),
        },
        many=True,
        required=required,
    )


def model_counts() -> serializers.Serializer:
    return inline_serializer(
        "PushModelCounts",
        {
            "created": serializers.IntegerField(),
            "updated": serializers.IntegerField(),
            "deleted": serializers.IntegerField(),
        },
    )


def push_fields(*, required: bool) -> dict[str, serializers.Field]:
    """The fields of a push response; optional when merged into an error body."""
    return {
        "status": serializers.ChoiceField(choices=["success", "partial", "error"], required=required),
        "success_count": serializers.IntegerField(required=required),
        "error_count": serializers.IntegerField(required=required),
        "processed_models": serializers.DictField(child=model_counts(), required=required),
        "results": record_result(required=required),
        "processing_time": serializers.FloatField(required=required),
        "sync_id": serializers.UUIDField(required=required),
        "dry_run": serializers.BooleanField(required=False, help_text="Present (true) for dry runs."),
    }


PushResponse = inline_serializer("PushResponse", push_fields(required=True))
PushErrorResponse = inline_serializer(
    "PushErrorResponse",
    {
        "error": serializers.CharField(),
        "detail": serializers.CharField(),
        "errors": serializers.DictField(
            child=serializers.ListField(child=serializers.CharField()), required=False
        ),
        **push_fields(required=False),
    },
)
JobAccepted = inline_serializer(
    "PushJobAccepted", {"job": serializers.UUIDField(), "status_url": serializers.URLField()}
)
JobState = inline_serializer(
    "PushJob",
    {
        "job": serializers.UUIDField(),
        "status": serializers.ChoiceField(choices=JobStatus.values),
        "created_at": serializers.DateTimeField(),
        "started_at": serializers.DateTimeField(allow_null=True),
        "finished_at": serializers.DateTimeField(allow_null=True),
        "status_code": serializers.IntegerField(
            required=False, help_text="done: the status the push answered."
        ),
        "result": serializers.DictField(required=False, help_text="done: the body the push answered."),
        "error": serializers.CharField(required=False, help_text="failed: why."),
    },
)
ORGANIZATION_HEADER = OpenApiParameter(
    "X-Sync-Organization",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="Slug of the organization to act in; needed when you belong to several.",
)
IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="Like batch_id: a repeated key replays the stored answer; another body with it is 409.",
)


def _envelope(request: Request) -> tuple[PushEnvelope, str | None]:
    try:
        envelope = parse_envelope(request.data)
        return envelope, envelope.idempotency_key(request.headers.get("Idempotency-Key"))
    except EnvelopeError as exc:
        raise ApiError(
            413 if exc.code == "too_many_records" else 400, exc.code, exc.detail, exc.errors
        ) from None


@extend_schema(
    summary="Push records",
    description=(
        "Create, update and delete rows of any model your role may push. Each record gets its own result; "
        "see PROTOCOL.md section 4 and sbsync/docs/push.md."
    ),
    parameters=[ORGANIZATION_HEADER, IDEMPOTENCY_HEADER],
    request=PushRequest,
    responses={
        200: PushResponse,
        202: JobAccepted,
        400: PushErrorResponse,
        401: ErrorResponse,
        403: PushErrorResponse,
        409: PushErrorResponse,
        413: ErrorResponse,
        415: ErrorResponse,
        429: ErrorResponse,
    },
    examples=[
        OpenApiExample(
            "Create a customer",
            value={
                "data": [{"_model": "shop.Customer", "name": "John Doe", "age": 45, "department": "SALES"}]
            },
            request_only=True,
        )
    ],
    tags=["sync"],
)
@sync_endpoint(["POST"])
def push(request: Request) -> Response:
    envelope, key = _envelope(request)
    access = request_access(request, request.data)
    if envelope.run_async:
        job = create_push_job(access=access, envelope=envelope, idempotency_key=key)
        bulk_sync_operation(job_id=job.pk)  # enqueued once the job row is committed
        url = request.build_absolute_uri(reverse("sbsync:push-job", kwargs={"code": job.code}))
        return Response({"job": str(job.code), "status_url": url}, status=202)
    answer = submit_push(access=access, envelope=envelope, idempotency_key=key)
    return Response(answer.body, status=answer.status_code)


@extend_schema(
    summary="State of an async push job",
    responses={200: JobState, 401: ErrorResponse, 404: ErrorResponse, 429: ErrorResponse},
    tags=["sync"],
)
@sync_endpoint(["GET"])
def job_status(request: Request, code: str) -> Response:
    job = job_for_user(request.user, code)
    if job is None:
        raise ApiError(404, "not_found", "No such job.")
    return Response(describe_job(job))
