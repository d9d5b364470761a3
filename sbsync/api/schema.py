"""The OpenAPI document of sbsync's API, and its offline Swagger UI (drf-spectacular + sidecar).

Only sbsync's own endpoints are described, whatever else the host project routes, and no
REST_FRAMEWORK or SPECTACULAR_SETTINGS of the host is needed: the views carry their schema class and
these views carry their settings. The Swagger UI loads its files from the sidecar package (never a CDN)
and does not call the public validator.
"""

from __future__ import annotations

import json
from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import inline_serializer
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView, _get_sidecar_url
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

import sbsync

ErrorResponse = inline_serializer(
    "ErrorResponse",
    {
        "error": serializers.CharField(
            help_text="A stable code: validation_error, not_found, throttled, ..."
        ),
        "detail": serializers.CharField(help_text="One sentence for a human."),
        "errors": serializers.DictField(
            child=serializers.ListField(child=serializers.CharField()),
            required=False,
            help_text="Messages by field (or by data.<index>.<field> for push records).",
        ),
    },
)


def only_sbsync_endpoints(endpoints: list[tuple[Any, ...]], **kwargs: Any) -> list[tuple[Any, ...]]:
    """Keep sbsync's API views; drop the host's and the documentation views themselves."""
    return [
        e
        for e in endpoints
        if getattr(e[3], "__module__", "").startswith("sbsync.api")
        and getattr(e[3], "__module__", "") != __name__
    ]


# Push and pull refuse unknown envelope keys (a misspelt "dryrun" must never run a real push), and a pull
# names at least one model: the document says so, so clients and fuzzers see the same rules the server has.
CLOSED_ENVELOPES = ("PushRequest", "PullRequest")


def close_envelopes(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    schemas = result.get("components", {}).get("schemas", {})
    for name in CLOSED_ENVELOPES:
        if name in schemas:
            schemas[name]["additionalProperties"] = False
    models = schemas.get("PullRequest", {}).get("properties", {}).get("models")
    if models is not None:
        models["minProperties"] = 1
    return result


SCHEMA_SETTINGS = {
    "TITLE": "sbsync API",
    "DESCRIPTION": (
        "Token-authenticated PUSH/PULL sync of Django models. Send `Authorization: Bearer <token>` "
        "(from `auth/token/`) and, when you belong to several organizations, `X-Sync-Organization: <slug>`. "
        'Every error has the shape `{"error": code, "detail": sentence, "errors": {...}}`.'
    ),
    "VERSION": f"{sbsync.__version__} (protocol {sbsync.PROTOCOL_VERSION})",
    "PREPROCESSING_HOOKS": ["sbsync.api.schema.only_sbsync_endpoints"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "sbsync.api.schema.close_envelopes",
    ],
    # Several answers have a "status" field with its own choices: name each set.
    "ENUM_NAME_OVERRIDES": {
        "RecordStatusEnum": "sbsync.enums.RecordStatus",
        "JobStatusEnum": "sbsync.enums.JobStatus",
        "PushStatusEnum": ["success", "partial", "error"],
    },
}

SWAGGER_SETTINGS = {"deepLinking": True, "validatorUrl": None, "persistAuthorization": True}


class BearerTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "sbsync.api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A token from auth/token/. `Authorization: Token <token>` is accepted too.",
        }


class OfflineSwaggerView(SpectacularSwaggerView):
    title = "sbsync API"
    # The documentation views are not operations of the API: left out of every schema, the host
    # project's included (drf-spectacular's deploy check builds that one with the host's settings).
    schema = None

    # drf-spectacular leaves _get_sidecar_url and SpectacularSwaggerView.get unannotated.
    @staticmethod
    def _swagger_ui_resource(filename: str) -> str:
        return str(_get_sidecar_url(f"swagger-ui-dist/{filename}"))  # type: ignore[no-untyped-call]

    @staticmethod
    def _swagger_ui_favicon() -> str:
        return str(_get_sidecar_url("swagger-ui-dist/favicon-32x32.png"))  # type: ignore[no-untyped-call]

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response: Response = super().get(request, *args, **kwargs)  # type: ignore[no-untyped-call]
        response.data["settings"] = json.dumps(SWAGGER_SETTINGS)
        return response


schema_view = SpectacularAPIView.as_view(custom_settings=SCHEMA_SETTINGS, schema=None)
docs_view = OfflineSwaggerView.as_view(url_name="sbsync:api-schema")
