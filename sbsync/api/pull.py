"""``POST pull/`` (sbsync/docs/protocol.md section 5): hand the request to the engine's ``serve_pull``
(sbsync/sync/pull/serve.py), which resolves the organization, checks the envelope, builds one page and
records the activity; refusals are ProtocolErrors the API's exception handler answers."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from sbsync.api.context import organization_header
from sbsync.api.decorators import sync_endpoint
from sbsync.api.schema import ErrorResponse
from sbsync.sync.pull.serve import serve_pull

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
    return Response(
        serve_pull(user=request.user, organization=organization_header(request), body=request.data)
    )
