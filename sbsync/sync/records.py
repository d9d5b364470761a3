"""How a row travels: the payload of one record, shared by pull (``data``) and push (conflict rows).

A record is ``{"_model": "app.Model", <pk name>: ..., <field>: ..., "_version": n}`` with every concrete
field under its name; a foreign key carries the target's primary key under the field's name
(``"customer": 17``), as sbsync/docs/protocol.md shows. Values stay Python objects (Decimal, datetime, UUID); the
API's JSON renderer writes them as strings in ISO-8601 / canonical form.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.db import models


@cache
def output_fields(model: type[models.Model]) -> tuple[tuple[str, str], ...]:
    """(attname, payload key) of every concrete field, the primary key first."""
    meta = model._meta
    fields = [meta.pk, *(f for f in meta.concrete_fields if not f.primary_key)]
    return tuple((f.attname, f.name) for f in fields)


def attnames(model: type[models.Model]) -> list[str]:
    """What to pass to ``QuerySet.values()`` to build payloads without model instances."""
    return [attname for attname, _ in output_fields(model)]


def payload(model: type[models.Model], values: dict[str, Any], version: int | None) -> dict[str, Any]:
    """The record of one row from a ``values()`` dict keyed by attname."""
    record: dict[str, Any] = {"_model": model._meta.label}
    for attname, key in output_fields(model):
        record[key] = values[attname]
    if version is not None:
        record["_version"] = version
    return record


def instance_payload(instance: models.Model, version: int | None) -> dict[str, Any]:
    model = type(instance)
    return payload(
        model, {attname: getattr(instance, attname) for attname, _ in output_fields(model)}, version
    )
