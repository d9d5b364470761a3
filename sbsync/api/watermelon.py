"""WatermelonDB's sync protocol (docs/watermelon.md): ``GET``/``POST watermelon/`` and ``GET
watermelon/schema/``. Same token, organization, throttles, logging and error shape as the rest of the API;
the work is in sbsync/sync/watermelon/."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from sbsync.api.context import organization_header
from sbsync.api.decorators import sync_endpoint
from sbsync.api.json import JSONParser
from sbsync.api.push_schema import ORGANIZATION_HEADER
from sbsync.api.schema import ErrorResponse
from sbsync.sync.watermelon.serve import serve_watermelon_pull, serve_watermelon_push, watermelon_schema


class TextJSONParser(JSONParser):
    """WatermelonDB's documented pushChanges posts ``JSON.stringify(...)`` without a Content-Type, which
    fetch() sends as text/plain: read it as JSON too."""

    media_type = "text/plain"


Changes = serializers.DictField(
    child=inline_serializer(
        "WatermelonTableChanges",
        {
            "created": serializers.ListField(child=serializers.DictField()),
            "updated": serializers.ListField(child=serializers.DictField()),
            "deleted": serializers.ListField(child=serializers.CharField()),
        },
    ),
    help_text="Table name → raw records created and updated, ids deleted.",
)
PullAnswer = inline_serializer(
    "WatermelonPull",
    {
        "changes": Changes,
        "timestamp": serializers.IntegerField(help_text="Send it back as last_pulled_at (pull and push)."),
        "has_more": serializers.BooleanField(
            required=False, help_text="With max_records: whether another pull has more changes."
        ),
        "experimentalStrategy": serializers.DictField(
            required=False,
            help_text="Present when tables must be emptied: the caller may no longer pull them.",
        ),
    },
)
PushBody = inline_serializer(
    "WatermelonPush",
    {
        "changes": Changes,
        "lastPulledAt": serializers.IntegerField(required=False),
    },
)
PushAnswer = inline_serializer(
    "WatermelonPushAnswer",
    {
        "status": serializers.CharField(),
        "applied": serializers.IntegerField(),
        "counts": serializers.DictField(child=serializers.IntegerField(), required=False),
        "sync_id": serializers.CharField(required=False),
    },
)
SchemaAnswer = inline_serializer(
    "WatermelonSchema",
    {
        "tables": serializers.ListField(
            child=serializers.DictField(),
            help_text="tableSchema() input per table ({name, columns}), with model, permissions, "
            "server_owned_columns and server_assigned_ids.",
        )
    },
)
LAST_PULLED_AT = OpenApiParameter(
    "last_pulled_at", OpenApiTypes.STR, description="null (first sync) or the timestamp of the last pull"
)


@sync_endpoint(["GET", "POST"])
def sync(request: Request) -> Response:
    organization = organization_header(request)
    if request.method == "GET":
        return Response(
            serve_watermelon_pull(user=request.user, organization=organization, params=request.query_params)
        )
    answer = serve_watermelon_push(
        user=request.user, organization=organization, params=request.query_params, body=request.data
    )
    return Response(answer.body, status=answer.status_code)


sync = extend_schema(
    methods=["POST"],
    summary="WatermelonDB push",
    description=(
        "Apply the client's changes in one transaction: 409 lists the records changed on the server after "
        "last_pulled_at; any refusal writes nothing and lists every record's reason. See docs/watermelon.md."
    ),
    parameters=[ORGANIZATION_HEADER, LAST_PULLED_AT],
    request=PushBody,
    responses={
        200: PushAnswer,
        400: OpenApiResponse(ErrorResponse, description="Not a changes object, or records rejected"),
        401: OpenApiResponse(ErrorResponse, description="No valid token"),
        403: OpenApiResponse(ErrorResponse, description="Not a member, or records the role may not push"),
        409: OpenApiResponse(ErrorResponse, description="Records changed after last_pulled_at (conflicts)"),
        410: OpenApiResponse(ErrorResponse, description="last_pulled_at unknown or expired: sync from null"),
        413: OpenApiResponse(
            ErrorResponse, description="Body over MAX_BODY_BYTES or records over MAX_PUSH_RECORDS"
        ),
        415: OpenApiResponse(ErrorResponse, description="Body not JSON"),
        429: OpenApiResponse(ErrorResponse, description="Too many requests with this token (Retry-After)"),
    },
    tags=["watermelon"],
)(sync)
# @extend_schema builds on the view's ``schema`` attribute before an earlier annotation, and sync_endpoint
# pins that attribute to AutoSchema: drop it so the GET operation builds on the POST one.
del sync.schema  # type: ignore[attr-defined]
sync = extend_schema(
    methods=["GET"],
    summary="WatermelonDB pull",
    description=(
        "Every change after last_pulled_at in every table you may pull, as WatermelonDB's pullChanges() "
        "returns it. See docs/watermelon.md."
    ),
    parameters=[
        ORGANIZATION_HEADER,
        LAST_PULLED_AT,
        OpenApiParameter("schema_version", OpenApiTypes.STR, description="the local schema version"),
        OpenApiParameter(
            "migration", OpenApiTypes.STR, description="null or WatermelonDB's migration, as JSON"
        ),
    ],
    responses={
        200: PullAnswer,
        400: OpenApiResponse(ErrorResponse, description="Bad last_pulled_at, schema_version or migration"),
        401: OpenApiResponse(ErrorResponse, description="No valid token"),
        403: OpenApiResponse(ErrorResponse, description="Not a member of the organization"),
        410: OpenApiResponse(ErrorResponse, description="last_pulled_at unknown or expired: sync from null"),
        413: OpenApiResponse(ErrorResponse, description="More than WATERMELON_MAX_PULL_RECORDS records"),
        429: OpenApiResponse(ErrorResponse, description="Too many requests with this token (Retry-After)"),
    },
    tags=["watermelon"],
)(sync)

sync.cls.parser_classes = [JSONParser, TextJSONParser]  # type: ignore[attr-defined]


@extend_schema(
    summary="WatermelonDB schema",
    description="Your tables as WatermelonDB's tableSchema() takes them, to generate the app's appSchema.",
    parameters=[ORGANIZATION_HEADER],
    responses={
        200: SchemaAnswer,
        401: OpenApiResponse(ErrorResponse, description="No valid token"),
        403: OpenApiResponse(ErrorResponse, description="Not a member of the organization"),
        429: OpenApiResponse(ErrorResponse, description="Too many requests with this token (Retry-After)"),
    },
    tags=["watermelon"],
)
@sync_endpoint(["GET"])
def schema(request: Request) -> Response:
    return Response(watermelon_schema(user=request.user, organization=organization_header(request)))
