"""``POST pull/`` (PROTOCOL.md section 5): validate the envelope, authorize every model, build one page.

Every pull that got past authentication leaves a SyncLog and a PerformanceMetrics row, rejected ones
included (status ERROR with the error), so staff can see a client stuck on a 400 or a 410.
"""

from __future__ import annotations

from typing import Any

from django.db import models, transaction
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from sbsync import conf
from sbsync.access import Access
from sbsync.api.context import request_access
from sbsync.api.decorators import sync_endpoint
from sbsync.api.errors import ApiError
from sbsync.api.schema import ErrorResponse
from sbsync.enums import Action, LogStatus, Operation
from sbsync.sync.activity import measured, record_activity
from sbsync.sync.pull.cursor import CursorExpired, PullError
from sbsync.sync.pull.page import PullPage, build_pull_page

ENVELOPE_KEYS = frozenset({"models", "batch_size", "organization"})
MAX_LABEL_ECHO = 100

PullRequestSchema = inline_serializer(
    "PullRequest",
    {
        "models": serializers.DictField(
            child=serializers.CharField(allow_null=True),
            help_text="Model label → null (from the beginning), an ISO-8601 timestamp, or the cursor a previous pull returned.",
        ),
        "batch_size": serializers.IntegerField(
            required=False,
            min_value=1,
            help_text="Records in the whole response: 1 to MAX_PULL_BATCH (default DEFAULT_PULL_BATCH).",
        ),
        "organization": serializers.CharField(
            required=False, min_length=1, help_text="Organization slug (or the X-Sync-Organization header)."
        ),
    },
)
PullModelMetadata = inline_serializer(
    "PullModelMetadata",
    {
        "count": serializers.IntegerField(help_text="Rows of this model in data"),
        "deleted": serializers.IntegerField(help_text="Tombstones of this model in deleted"),
        "cursor": serializers.CharField(help_text="Send it back as this model's start to continue"),
        "has_more": serializers.BooleanField(),
        "last_sync": serializers.DateTimeField(
            help_text="The organization's last pull of this model (this one)"
        ),
        "user_last_sync": serializers.DateTimeField(
            allow_null=True, help_text="Your previous pull of this model"
        ),
    },
)
PullResponseSchema = inline_serializer(
    "PullResponse",
    {
        "data": serializers.ListField(
            child=serializers.DictField(),
            help_text='Rows in their latest state: {"_model", <pk name>, <fields>..., "_version"}',
        ),
        "deleted": serializers.ListField(
            child=serializers.DictField(),
            help_text='Rows to remove from the local copy: {"_model", <pk name>, "_version"}',
        ),
        "metadata": serializers.DictField(child=PullModelMetadata),
        "batch_info": inline_serializer(
            "PullBatchInfo",
            {
                "batch_size": serializers.IntegerField(),
                "total_records": serializers.IntegerField(),
                "has_more": serializers.BooleanField(),
            },
        ),
    },
)


def _label(value: str) -> str:
    return value[:MAX_LABEL_ECHO]


def _batch_size(body: dict[str, Any]) -> int:
    limit = conf.get("MAX_PULL_BATCH")
    value = body.get("batch_size", conf.get("DEFAULT_PULL_BATCH"))
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= limit:
        message = f"batch_size must be a whole number between 1 and {limit}."
        raise ApiError(400, "validation_error", message, {"batch_size": [message]})
    return value


def parse_pull_request(body: Any, access: Access) -> tuple[dict[type[models.Model], str | None], int]:
    """The models to pull (in request order) with their raw start values, and the batch size.
    400 for a malformed envelope or an unknown model, 403 when the role may not pull one of them."""
    if not isinstance(body, dict):
        raise ApiError(
            400, "validation_error", 'Send a JSON object: {"models": {"app.Model": null}, "batch_size": 100}.'
        )
    unknown = sorted(set(body) - ENVELOPE_KEYS)
    if unknown:
        raise ApiError(
            400,
            "validation_error",
            f"Unknown field {_label(unknown[0])!r} in the pull request.",
            {_label(key): ["Unknown field."] for key in unknown[:20]},
        )
    requested = body.get("models")
    if not isinstance(requested, dict) or not requested:
        message = "models must be a non-empty object mapping model labels to null, a timestamp or a cursor."
        raise ApiError(400, "validation_error", message, {"models": [message]})
    batch_size = _batch_size(body)
    chosen: dict[type[models.Model], str | None] = {}
    missing, forbidden = [], []
    for label, start in requested.items():
        model = access.model(label)
        if model is None:
            missing.append(_label(label))
            continue
        if model in chosen:
            message = f"{model._meta.label} is named twice."
            raise ApiError(400, "validation_error", message, {f"models.{model._meta.label}": [message]})
        if not access.can(model, Action.PULL):
            forbidden.append(model._meta.label)
        if start is not None and not isinstance(start, str):
            message = (
                f"The start of {model._meta.label} must be null, an ISO-8601 timestamp or a cursor string."
            )
            raise ApiError(400, "validation_error", message, {f"models.{model._meta.label}": [message]})
        chosen[model] = start
    if missing:
        message = "Unknown model, or not enabled for sync"
        raise ApiError(
            400,
            "unknown_model",
            f"{message}: {', '.join(missing[:5])}.",
            {f"models.{m}": [message + "."] for m in missing[:20]},
        )
    if forbidden:
        message = "Your role may not pull this model"
        raise ApiError(
            403,
            "forbidden",
            f"{message}: {', '.join(forbidden)}.",
            {f"models.{m}": [message + "."] for m in forbidden},
        )
    return chosen, batch_size


def _requested_labels(body: Any) -> list[str]:
    requested = body.get("models") if isinstance(body, dict) else None
    return [_label(str(label)) for label in list(requested)[:20]] if isinstance(requested, dict) else []


@extend_schema(
    summary="Pull changes after each model's cursor",
    description=(
        "Returns the changes after each model's start position, in change order, for the rows you may see, at most "
        "batch_size records in all. Call again with the returned cursors while batch_info.has_more is true. Rows "
        "deleted, or no longer inside your view, arrive in deleted. 410 cursor_expired: drop that model's local "
        "copy and pull it again from null."
    ),
    request=PullRequestSchema,
    responses={
        200: PullResponseSchema,
        400: OpenApiResponse(
            ErrorResponse, description="Malformed envelope, unknown model, bad cursor or timestamp"
        ),
        401: OpenApiResponse(ErrorResponse, description="No valid token"),
        403: OpenApiResponse(ErrorResponse, description="Not a member, or the role may not pull a model"),
        410: OpenApiResponse(
            ErrorResponse, description="A position older than the tombstone retention horizon"
        ),
        413: OpenApiResponse(ErrorResponse, description="Body larger than MAX_BODY_BYTES"),
        415: OpenApiResponse(ErrorResponse, description="Body not JSON"),
        429: OpenApiResponse(ErrorResponse, description="Too many requests with this token (Retry-After)"),
    },
    examples=[
        OpenApiExample(
            "A first pull, and the seed's timestamp form",
            value={
                "models": {"shop.Customer": None, "shop.Order": "2024-01-14T10:00:00Z"},
                "batch_size": 100,
            },
            request_only=True,
        )
    ],
    tags=["sync"],
)
@sync_endpoint(["POST"])
def pull(request: Request) -> Response:
    body = request.data
    access: Access | None = None
    page: PullPage | None = None
    labels = _requested_labels(body)
    error: ApiError | None = None
    with measured() as measurement:
        try:
            access = request_access(request, body)
            requests, batch_size = parse_pull_request(body, access)
            labels = [model._meta.label for model in requests]
            page = build_pull_page(access=access, requests=requests, batch_size=batch_size)
        except ApiError as exc:
            error = exc
        except PullError as exc:
            status = 410 if isinstance(exc, CursorExpired) else 400
            error = ApiError(status, exc.code, exc.detail, {f"models.{exc.model_label}": [exc.detail]})
    total = page.total_records if page else 0
    with transaction.atomic():  # the log and the metrics row in one commit
        record_activity(
            user=request.user,
            organization=access.organization if access else None,
            operation=Operation.PULL,
            status=LogStatus.ERROR if error else LogStatus.SUCCESS,
            models=labels,
            object_count=total,
            success_count=total,
            error_count=1 if error else 0,
            errors=[{"error": error.code, "detail": error.detail, "status": error.status_code}]
            if error
            else [],
            request_data=body if isinstance(body, dict) else None,
            measurement=measurement,
        )
    if error is not None:
        raise error
    assert page is not None
    return Response(page.as_dict())
