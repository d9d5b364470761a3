"""The baseline's four endpoints, speaking the subset of the sync protocol the benchmark's client uses.

A push is one ``bulk_create(update_conflicts=True)``; a pull page is one keyset query on
``(organization, updated_at, id)`` with ``limit + 1`` rows; the organization's id is looked up once per
process. Nothing is checked: this is the floor any sync server stands on, not a server to deploy.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from sbsync.benchmark.bare import LABEL
from sbsync.benchmark.bare.models import BareRecord
from sbsync.models import Organization

FIELDS = ("name", "age", "department")
COLUMNS = ("id", "name", "age", "department", "organization", "updated_at", "version")
DESCRIPTION = {
    "model": LABEL,
    "pk": "id",
    "fields": [
        {"name": "id", "type": "UUIDField", "required": False, "read_only": False, "primary_key": True},
        {"name": "name", "type": "CharField", "required": True, "read_only": False, "max_length": 200},
        {"name": "age", "type": "PositiveSmallIntegerField", "required": False, "read_only": False},
        {"name": "department", "type": "CharField", "required": False, "read_only": False, "max_length": 20},
    ],
}

_organizations: dict[str, int] = {}


def _json(body: Any) -> HttpResponse:
    return HttpResponse(orjson.dumps(body), content_type="application/json")


def _organization(request: HttpRequest) -> int:
    slug = request.headers.get("X-Sync-Organization", "")
    if slug not in _organizations:
        found = Organization.objects.filter(slug=slug).values_list("pk", flat=True).first()
        if found is None:
            raise Http404("No such organization.")
        _organizations[slug] = found
    return _organizations[slug]


@csrf_exempt
@require_POST
def token(request: HttpRequest) -> HttpResponse:
    return _json({"token": "bare"})


@require_GET
def catalogue(request: HttpRequest) -> HttpResponse:
    return _json({"models": [DESCRIPTION]})


@csrf_exempt
@require_POST
def push(request: HttpRequest) -> HttpResponse:
    organization = _organization(request)
    records = orjson.loads(request.body)["data"]
    rows = [
        BareRecord(
            organization_id=organization,
            version=record.get("_version", 0) + 1,
            **{"id": record["id"]} if "id" in record else {},
            **{name: record[name] for name in FIELDS if name in record},
        )
        for record in records
    ]
    sent = sorted({name for record in records for name in FIELDS if name in record})
    BareRecord.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["id"], update_fields=[*sent, "version", "updated_at"]
    )
    return _json({"results": [{"id": row.pk, "_version": row.version} for row in rows], "error_count": 0})


@csrf_exempt
@require_POST
def pull(request: HttpRequest) -> HttpResponse:
    organization = _organization(request)
    body = orjson.loads(request.body)
    [(label, cursor)] = body["models"].items()
    size = int(body["batch_size"])
    rows = BareRecord.objects.filter(organization_id=organization).order_by("updated_at", "id")
    if cursor:
        stamp, key = cursor.split("|")
        at = datetime.fromisoformat(stamp)
        rows = rows.filter(updated_at__gte=at).exclude(updated_at=at, id__lte=key)
    page = list(rows.values_list(*COLUMNS)[: size + 1])
    has_more = len(page) > size
    page = page[:size]
    if page:
        cursor = f"{page[-1][5].isoformat()}|{page[-1][0]}"
    data = [
        {"_model": LABEL, **dict(zip(COLUMNS[:-1], row[:-1], strict=True)), "_version": row[-1]}
        for row in page
    ]
    return _json(
        {
            "data": data,
            "deleted": [],
            "metadata": {label: {"count": len(data), "cursor": cursor, "has_more": has_more}},
            "batch_info": {"batch_size": size, "total_records": len(data), "has_more": has_more},
        }
    )
