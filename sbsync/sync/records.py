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
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.sql.compiler import SQLCompiler

from sbsync.rows import column_converter

# Primary keys stored as the canonical text itself, so the change index's text compares as it is.
TEXT_KEYS = frozenset({"CharField", "SlugField", "TextField", "EmailField", "URLField"})
INTEGER_KEYS = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "SmallAutoField",
        "IntegerField",
        "BigIntegerField",
        "SmallIntegerField",
        "PositiveIntegerField",
        "PositiveBigIntegerField",
        "PositiveSmallIntegerField",
    }
)


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


def stored_key(model: type[models.Model], connection: BaseDatabaseWrapper, column: str) -> str:
    """SQL turning ``column``, a key's canonical text (``SyncRecord.object_pk``), into ``model``'s primary
    key as its table stores it, so a join on it probes the primary key index: text as it is, a UUID
    without its dashes where the backend stores 32 hex digits (SQLite), anything else cast to the key's
    column type (integers; ``uuid`` on PostgreSQL)."""
    pk = model._meta.pk
    stored = getattr(pk, "target_field", pk)  # a parent link: the parent's key
    kind = stored.get_internal_type()
    if kind in TEXT_KEYS:
        return column
    if kind == "UUIDField" and not connection.features.has_native_uuid_field:
        return f"REPLACE({column}, '-', '')"
    return f"CAST({column} AS {pk.cast_db_type(connection)})"


def row_key_text(model: type[models.Model], connection: BaseDatabaseWrapper, column: str) -> str | None:
    """SQL turning ``column``, ``model``'s primary key as its table stores it, into the key's canonical
    text (``SyncRecord.object_pk``, ``pk_key``), where the database writes the same text: text keys as
    they are, integers, and UUIDs on PostgreSQL (lower case, with dashes). None for other keys."""
    pk = model._meta.pk
    kind = getattr(pk, "target_field", pk).get_internal_type()
    if kind in TEXT_KEYS:
        return column
    if kind in INTEGER_KEYS or (kind == "UUIDField" and connection.features.has_native_uuid_field):
        return f"CAST({column} AS text)"
    return None


class RowReader:
    """Payloads from the rows of a compiled ``values(*attnames(model), ...)`` query, without model
    instances or the ORM's per-row machinery: the converters the query's compiler would apply
    (the backend's and each field's ``from_db_value``) are looked up once per query, composed into one
    function per column, and applied only to the rows that are sent."""

    def __init__(
        self, model: type[models.Model], compiler: SQLCompiler, connection: BaseDatabaseWrapper
    ) -> None:
        self.label = model._meta.label
        self.keys = tuple(key for _, key in output_fields(model))
        self.width = len(self.keys)
        converters = compiler.get_converters([column for column, _, _ in compiler.select[: self.width]])
        self.converters = [
            (index, column_converter(functions, expression, connection))
            for index, (functions, expression) in converters.items()
        ]

    def payload(self, row: tuple[Any, ...], version: int | None) -> dict[str, Any]:
        """The record of ``row`` (its first ``width`` columns, in ``output_fields`` order)."""
        values = list(row[: self.width])
        for index, convert in self.converters:
            values[index] = convert(values[index])
        record: dict[str, Any] = {"_model": self.label}
        record.update(zip(self.keys, values, strict=True))
        if version is not None:
            record["_version"] = version
        return record
