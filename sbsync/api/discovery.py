"""``GET models/`` (sbsync/docs/protocol.md section 6): what the caller's role may sync in its organization, described
well enough to write a client from this answer alone."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

import sbsync
from sbsync import conf, discovery
from sbsync.access import Access
from sbsync.api.context import request_access
from sbsync.api.decorators import sync_endpoint
from sbsync.api.schema import ErrorResponse
from sbsync.enums import Action

FieldSchema = inline_serializer(
    "SyncField",
    {
        "name": serializers.CharField(),
        "type": serializers.CharField(help_text="Django field class, e.g. CharField, UUIDField, ForeignKey"),
        "required": serializers.BooleanField(help_text="Must be sent when creating a row"),
        "read_only": serializers.BooleanField(help_text="Set by the server; sending it is a field error"),
        "null": serializers.BooleanField(),
        "max_length": serializers.IntegerField(required=False),
        "choices": serializers.ListField(child=serializers.JSONField(), required=False),
        "related_model": serializers.CharField(
            required=False, help_text="Label of the model a foreign key points to"
        ),
        "attname": serializers.CharField(
            required=False, help_text="Alternative key of a foreign key (name_id)"
        ),
        "primary_key": serializers.BooleanField(required=False),
    },
)
ModelSchema = inline_serializer(
    "SyncModel",
    {
        "model": serializers.CharField(help_text="The label to use as _model and in pull requests"),
        "verbose_name": serializers.CharField(),
        "pk": serializers.CharField(help_text="Name of the primary key in records"),
        "tenant_field": serializers.CharField(allow_null=True),
        "shared": serializers.BooleanField(help_text="Reference data of every organization: pull-only"),
        "permissions": serializers.DictField(child=serializers.BooleanField()),
        "filters": serializers.ListField(
            child=serializers.DictField(),
            help_text='Row filters of your role: {"field", "operator", "value"}, all must match',
        ),
        "fields": serializers.ListField(child=FieldSchema),
    },
)
CatalogueSchema = inline_serializer(
    "SyncCatalogue",
    {
        "protocol_version": serializers.CharField(),
        "server_version": serializers.CharField(),
        "organization": inline_serializer(
            "SyncOrganization",
            {
                "id": serializers.IntegerField(),
                "name": serializers.CharField(),
                "slug": serializers.CharField(),
            },
        ),
        "group": serializers.CharField(help_text="Your role in the organization"),
        "limits": serializers.DictField(child=serializers.IntegerField()),
        "models": serializers.ListField(child=ModelSchema),
    },
)


def model_catalogue(access: Access) -> dict[str, Any]:
    """Every enabled model on which the member's role has any permission, with its fields, flags and row
    filters, plus the server's limits and versions."""
    described = []
    for label in sorted(access.enabled):
        model = access.enabled[label].model
        flags = access.flags(model)
        if not any(flags.values()):
            continue
        described.append(
            {
                **discovery.describe_model(model),
                "shared": access.is_shared(model),
                "permissions": flags,
                "filters": access.conditions(model),
            }
        )
    organization = access.organization
    return {
        "protocol_version": sbsync.PROTOCOL_VERSION,
        "server_version": sbsync.__version__,
        "organization": {"id": organization.pk, "name": organization.name, "slug": organization.slug},
        "group": access.group.name,
        "limits": {
            "max_push_records": conf.get("MAX_PUSH_RECORDS"),
            "max_pull_batch": conf.get("MAX_PULL_BATCH"),
            "default_pull_batch": conf.get("DEFAULT_PULL_BATCH"),
            "max_body_bytes": conf.get("MAX_BODY_BYTES"),
            "tombstone_retention_days": conf.get("TOMBSTONE_RETENTION_DAYS"),
        },
        "models": described,
    }


@extend_schema(
    summary="The models you may sync, their fields, permissions and row filters",
    description=f"Flags are {', '.join(Action.values)}. Shared models are pull-only whatever the flags say.",
    responses={
        200: CatalogueSchema,
        400: OpenApiResponse(ErrorResponse, description="Several organizations and none named"),
        401: OpenApiResponse(ErrorResponse, description="No valid token"),
        403: OpenApiResponse(ErrorResponse, description="Not a member of the organization"),
        429: OpenApiResponse(ErrorResponse, description="Too many requests with this token (Retry-After)"),
    },
    tags=["sync"],
)
@sync_endpoint(["GET"])
def list_models(request: Request) -> Response:
    return Response(model_catalogue(request_access(request)))
