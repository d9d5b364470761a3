"""WatermelonDB's view of the synced models: table and column names, column types, and value conversion.

* A table per enabled model the caller may pull, named ``<app_label>_<model_name>`` in lower case
  (``shop_customer``) unless ``SBSYNC["WATERMELON_TABLES"]`` names it.
* ``id`` is the primary key as a string. Every other concrete field is a column named by its attname
  (``customer_id``), except the tenant field (a client only ever sees its own organization) and fields
  whose names WatermelonDB reserves or refuses.
* Types (WatermelonDB has ``string``, ``number`` and ``boolean``): booleans are booleans; integers and
  floats are numbers; dates and date-times are numbers, milliseconds since the epoch in UTC (a date is its
  midnight UTC); durations are numbers of milliseconds; everything else is a string: text, UUIDs,
  decimals (exact, as the sbsync protocol sends them), times (``HH:MM:SS``), JSON (its JSON text, what
  WatermelonDB's ``@json`` decorator stores), binary (base64) and foreign keys (the target's key as text,
  what WatermelonDB's relations hold).

Pull turns rows into raw records (``raw_record``); push turns raw records back into the sbsync protocol's
JSON values (``protocol_value``), which the push engine then validates like any other push.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

from django.db import models
from django.db.models.fields import AutoFieldMixin
from django.utils.duration import duration_iso_string

from sbsync import conf, discovery
from sbsync.access import Access
from sbsync.enums import Action

STRING, NUMBER, BOOLEAN = "string", "number", "boolean"
SAFE_NAME = re.compile(r"^[a-zA-Z_]\w*$")
# Names WatermelonDB reserves or refuses (its Schema validateName and checkName).
RESERVED = frozenset({"id", "_changed", "_status", "local_storage", "$loki", "rowid", "oid", "_rowid_"})
UNSAFE = frozenset(
    {
        "__proto__",
        "constructor",
        "prototype",
        "hasownproperty",
        "isprototypeof",
        "tostring",
        "tolocalestring",
        "valueof",
        "sqlite_master",
    }
)
# WatermelonDB requires these to be non-optional numbers when present.
TIMESTAMP_COLUMNS = frozenset({"created_at", "updated_at"})
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MILLISECOND = timedelta(milliseconds=1)


def is_safe_name(name: str) -> bool:
    """Whether WatermelonDB accepts ``name`` as a table or column name."""
    lowered = name.lower()
    return (
        bool(SAFE_NAME.match(name))
        and not name.startswith("__")
        and lowered not in RESERVED
        and lowered not in UNSAFE
        and not lowered.startswith("sqlite_stat")
    )


def default_table_name(model: type[models.Model]) -> str:
    return f"{model._meta.app_label}_{model._meta.model_name}".lower()


def table_name(model: type[models.Model]) -> str:
    """The WatermelonDB table of ``model``: WATERMELON_TABLES, else ``<app_label>_<model_name>``."""
    configured: dict[str, str] = {
        label.lower(): name for label, name in conf.get("WATERMELON_TABLES").items()
    }
    return configured.get(model._meta.label_lower, default_table_name(model))


def column_type(field: models.Field[Any, Any]) -> str:
    if field.is_relation:
        return STRING
    if isinstance(field, models.BooleanField):
        return BOOLEAN
    if isinstance(field, (models.IntegerField, models.FloatField, models.DateField, models.DurationField)):
        return NUMBER  # DateTimeField is a DateField
    return STRING


@dataclass(frozen=True)
class Column:
    name: str  # the attname
    field: models.Field[Any, Any]
    type: str
    optional: bool
    indexed: bool
    server_owned: bool

    def schema(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "isOptional": self.optional, "isIndexed": self.indexed}


@dataclass(frozen=True)
class Table:
    name: str
    model: type[models.Model]
    columns: tuple[Column, ...]

    @property
    def label(self) -> str:
        return self.model._meta.label

    @property
    def server_keys(self) -> bool:
        """Whether the database assigns the primary key (an auto-increment key): a WatermelonDB client
        chooses its ids, so it cannot create rows of such a model."""
        return isinstance(self.model._meta.pk, AutoFieldMixin)

    def by_name(self) -> dict[str, Column]:
        return {column.name: column for column in self.columns}


@cache
def _columns(model: type[models.Model], read_only: frozenset[str]) -> tuple[Column, ...]:
    tenant = discovery.tenant_field(model)
    columns = []
    for field in model._meta.concrete_fields:
        if field.primary_key or field is tenant or not is_safe_name(field.attname):
            continue
        kind = column_type(field)
        if field.attname in TIMESTAMP_COLUMNS and kind != NUMBER:
            continue
        columns.append(
            Column(
                name=field.attname,
                field=field,
                type=kind,
                optional=field.null and field.attname not in TIMESTAMP_COLUMNS,
                indexed=field.is_relation,
                server_owned=field.name in read_only or isinstance(field, models.FileField),
            )
        )
    return tuple(columns)


def table_for(model: type[models.Model]) -> Table:
    read_only = frozenset(discovery.read_only_fields(model))
    return Table(name=table_name(model), model=model, columns=_columns(model, read_only))


def pullable_tables(access: Access) -> dict[str, Table]:
    """The caller's tables by name: every enabled model it may pull, in label order."""
    models_ = sorted(
        (status.model for status in access.enabled.values() if access.can(status.model, Action.PULL)),
        key=lambda model: model._meta.label_lower,
    )
    return {table.name: table for table in map(table_for, models_)}


def describe_table(table: Table, access: Access) -> dict[str, Any]:
    """A table as WatermelonDB's ``tableSchema()`` takes it (``name``, ``columns``), with what a client
    author needs besides: the model, the role's permissions and the columns push ignores."""
    return {
        "name": table.name,
        "columns": [column.schema() for column in table.columns],
        "model": table.label,
        "permissions": {
            action: access.can(table.model, action)
            for action in (Action.PULL, Action.PUSH, Action.CREATE, Action.UPDATE, Action.DELETE)
        },
        "server_owned_columns": [column.name for column in table.columns if column.server_owned],
        "server_assigned_ids": table.server_keys,
    }


# Pull: Python values (as the engine's payloads hold them) → WatermelonDB raw values.


def milliseconds(moment: datetime) -> int:
    return (moment - EPOCH) // MILLISECOND


def raw_value(column: Column, value: Any) -> Any:
    if value is None:
        return None
    if column.field.is_relation:
        return str(value)
    if isinstance(value, datetime):
        return milliseconds(value if value.tzinfo else value.replace(tzinfo=UTC))
    if isinstance(value, date):
        return milliseconds(datetime(value.year, value.month, value.day, tzinfo=UTC))
    if isinstance(value, timedelta):
        return value // MILLISECOND
    if isinstance(value, time):
        return value.isoformat()
    if isinstance(column.field, models.JSONField):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if isinstance(value, (bytes, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (bool, int, float, str)):
        return value
    return str(value)  # UUIDs, IP addresses


def raw_record(table: Table, row_id: Any, values: dict[str, Any]) -> dict[str, Any]:
    """The raw record of a row from its values by attname."""
    record = {"id": str(row_id)}
    for column in table.columns:
        record[column.name] = raw_value(column, values[column.name])
    return record


# Push: WatermelonDB raw values → the sbsync protocol's JSON values.


class ColumnError(ValueError):
    pass


def _moment(value: Any) -> datetime:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ColumnError("Give a number of milliseconds since 1970-01-01 UTC.")
    try:
        return EPOCH + timedelta(milliseconds=value)
    except OverflowError:
        raise ColumnError("This date is out of range.") from None


def protocol_value(column: Column, value: Any) -> Any:
    """What the sbsync push protocol expects for ``value`` of ``column``. Raises ColumnError for a
    value of the wrong WatermelonDB type; the push engine validates the rest."""
    if value is None:
        return None
    field = column.field
    if field.is_relation:
        if value == "":
            return None
        target = field.target_field  # type: ignore[attr-defined]
        if isinstance(value, str) and isinstance(target, models.IntegerField):
            return int(value) if value.isascii() and value.isdigit() else value
        return value
    if isinstance(field, models.DateTimeField):
        return _moment(value).isoformat().replace("+00:00", "Z")
    if isinstance(field, models.DateField):
        return _moment(value).date().isoformat()
    if isinstance(field, models.DurationField):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ColumnError("Give a number of milliseconds.")
        return duration_iso_string(timedelta(milliseconds=value))
    if isinstance(field, models.JSONField):
        if not isinstance(value, str):
            raise ColumnError("Give the JSON value as text.")
        try:
            return json.loads(value)
        except ValueError:
            raise ColumnError("This is not valid JSON text.") from None
    return value
