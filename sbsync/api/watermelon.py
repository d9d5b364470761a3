"""WatermelonDB's sync protocol (docs/watermelon.md): ``GET``/``POST watermelon/`` and ``GET
watermelon/schema/``. Same token, organization, throttles, logging and error shape as the rest of the API;
the work is in sbsync/sync/watermelon/."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from sbsync import conf
from sbsync.access import Access
from sbsync.api.context import request_access
from sbsync.api.decorators import sync_endpoint
from sbsync.api.errors import ApiError
from sbsync.api.json import JSONParser
from sbsync.api.push_schema import ORGANIZATION_HEADER
from sbsync.api.schema import ErrorResponse
from sbsync.enums import LogStatus, Operation
from sbsync.sync.activity import measured, record_activity
from sbsync.sync.cursor import CursorExpired, PullError
from sbsync.sync.envelope import EnvelopeError
from sbsync.sync.watermelon.pull import (
    MigrationError,
    PullTooLarge,
    WatermelonPull,
    parse_migration,
    pull_changes,
)
from sbsync.sync.watermelon.push import PushShapeError, changes_of, push_changes
from sbsync.sync.watermelon.tables import describe_table, pullable_tables
from sbsync.sync.watermelon.timestamps import TimestampError, parse_timestamp


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


def _last_pulled_at(request: Request, body_value: Any = None) -> int | None:
    try:
        value = parse_timestamp(request.query_params.get("last_pulled_at"))
    except TimestampError as exc:
        raise ApiError(exc.status_code, exc.code, exc.detail, {"last_pulled_at": [exc.detail]}) from None
    if body_value is not None and body_value != value:
        message = "lastPulledAt in the body and last_pulled_at in the query differ: send one, or the same."
        raise ApiError(400, "validation_error", message, {"lastPulledAt": [message]})
    return value


def _schema_version(request: Request) -> None:
    text = request.query_params.get("schema_version")
    if text is not None and text != "null" and not (text.isascii() and text.isdigit() and len(text) < 10):
        message = "schema_version must be the local schema version, a whole number."
        raise ApiError(400, "validation_error", message, {"schema_version": [message]})


def _max_records(request: Request) -> int | None:
    text = request.query_params.get("max_records")
    if text is None:
        return None
    limit = conf.get("WATERMELON_MAX_PULL_RECORDS")
    if not (text.isascii() and text.isdigit() and 1 <= int(text) <= limit):
        message = f"max_records must be a whole number between 1 and WATERMELON_MAX_PULL_RECORDS ({limit})."
        raise ApiError(400, "validation_error", message, {"max_records": [message]})
    return int(text)


def _pull(request: Request) -> Response:
    access: Access | None = None
    answer: WatermelonPull | None = None
    error: ApiError | None = None
    with measured() as measurement:
        try:
            access = request_access(request)
            last_pulled_at = _last_pulled_at(request)
            _schema_version(request)
            try:
                migration = parse_migration(request.query_params.get("migration"))
            except MigrationError as exc:
                raise ApiError(400, "validation_error", str(exc), {"migration": [str(exc)]}) from None
            answer = pull_changes(
                access=access,
                last_pulled_at=last_pulled_at,
                migration=migration,
                max_records=_max_records(request),
            )
        except ApiError as exc:
            error = exc
        except TimestampError as exc:
            error = ApiError(exc.status_code, exc.code, exc.detail, {"last_pulled_at": [exc.detail]})
        except PullError as exc:
            status = 410 if isinstance(exc, CursorExpired) else 400
            error = ApiError(status, exc.code, exc.detail, {"last_pulled_at": [exc.detail]})
        except PullTooLarge as exc:
            error = ApiError(413, "too_many_changes", exc.detail)
    total = answer.records if answer else 0
    with transaction.atomic():  # the log and the metrics row in one commit
        record_activity(
            user=request.user,
            organization=access.organization if access else None,
            operation=Operation.PULL,
            status=LogStatus.ERROR if error else LogStatus.SUCCESS,
            models=answer.labels if answer else [],
            object_count=total,
            success_count=total,
            error_count=1 if error else 0,
            errors=[{"error": error.code, "detail": error.detail, "status": error.status_code}]
            if error
            else [],
            request_data={"watermelon": dict(request.query_params.items())},
            measurement=measurement,
        )
    if error is not None:
        raise error
    assert answer is not None
    return Response(answer.as_dict())


def _push(request: Request) -> Response:
    body = request.data
    try:
        _, body_last_pulled_at = changes_of(body)
    except PushShapeError as exc:
        raise ApiError(400, "validation_error", exc.detail, exc.errors) from None
    last_pulled_at = _last_pulled_at(request, body_last_pulled_at)
    if last_pulled_at is None:
        message = "A push needs last_pulled_at, the timestamp of the pull before it."
        raise ApiError(400, "validation_error", message, {"last_pulled_at": [message]})
    access = request_access(request)
    try:
        answer = push_changes(access=access, last_pulled_at=last_pulled_at, body=body)
    except PushShapeError as exc:
        raise ApiError(400, "validation_error", exc.detail, exc.errors) from None
    except TimestampError as exc:
        raise ApiError(exc.status_code, exc.code, exc.detail, {"last_pulled_at": [exc.detail]}) from None
    except EnvelopeError as exc:
        raise ApiError(exc.status_code, exc.code, exc.detail, exc.errors) from None
    return Response(answer.body, status=answer.status_code)


@sync_endpoint(["GET", "POST"])
def sync(request: Request) -> Response:
    return _pull(request) if request.method == "GET" else _push(request)


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
    access = request_access(request)
    return Response({"tables": [describe_table(t, access) for t in pullable_tables(access).values()]})
