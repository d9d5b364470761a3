"""Model instances from one hand-written SELECT, for the lookups every sync request makes (the token with
its user, the membership with its organization and group).

Compiling those as ORM queries cost more than running them: about 2 ms of a pull's 15 for the membership
alone. ``Columns`` lists the concrete fields of a few models under table aliases once per process and
database, and turns a fetched row back into instances as the ORM would: the same converters (the
backend's and each field's ``from_db_value``, looked up once) and ``Model.from_db``, so the instances
behave like any loaded from a queryset.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.conf import settings
from django.core.signals import setting_changed
from django.db import connection, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.dispatch import receiver
from django.utils.dateparse import parse_datetime

T = TypeVar("T")


def column_name(model: type[models.Model], name: str) -> str:
    """The database column of ``model``'s concrete field ``name`` (or of its primary key for "pk")."""
    field = model._meta.pk if name == "pk" else model._meta.get_field(name)
    assert isinstance(field, models.Field), f"{model._meta.label}.{name} is not a concrete field"
    return field_column(field)


def field_column(field: models.Field[Any, Any]) -> str:
    """The database column of a concrete field."""
    column = field.column
    assert column is not None, f"{field} has no column"
    return column


def insert_values(
    instance: models.Model, fields: Sequence[models.Field[Any, Any]], connection: BaseDatabaseWrapper
) -> list[Any]:
    """The database values of a new row of ``instance`` for ``fields``, as Django's insert prepares them
    (``pre_save`` for defaults such as ``auto_now``, then ``get_db_prep_save``)."""
    return [field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields]


# Statements and converters built once per process read these settings (converters capture USE_TZ
# and the connection's time zone); tests change them, so what was built before is not used after.
DEPENDS_ON = frozenset({"DATABASES", "USE_TZ", "TIME_ZONE", "AUTH_USER_MODEL"})
_settings_epoch = 0


@receiver(setting_changed)
def _next_settings_epoch(*, setting: str, **kwargs: Any) -> None:
    global _settings_epoch
    if setting in DEPENDS_ON:
        _settings_epoch += 1


def built_for(connection: BaseDatabaseWrapper) -> tuple[str, str, int]:
    """The key under which something built for ``connection`` stays valid: its alias, its backend (a
    test may put another backend's connection under the alias for a while) and the settings epoch."""
    return (connection.alias, connection.vendor, _settings_epoch)


def once_per_database(build: Callable[[BaseDatabaseWrapper], T]) -> Callable[[], T]:
    """``build(connection)`` for the default connection, made once per process and ``built_for`` key."""
    built: dict[tuple[str, str, int], T] = {}

    def get() -> T:
        key = built_for(connection)
        if key not in built:
            built[key] = build(connection)
        return built[key]

    return get


class Columns:
    """The select list of ``parts`` (model, table alias), in order, and the instances of a row of it."""

    def __init__(self, connection: BaseDatabaseWrapper, parts: Sequence[tuple[type[models.Model], str]]):
        quote = connection.ops.quote_name
        self.alias = connection.alias
        self.parts: list[tuple[type[models.Model], list[str], int, int]] = []
        selected: list[str] = []
        self.converters: list[tuple[int, Callable[[Any], Any]]] = []
        for model, alias in parts:
            fields = list(model._meta.concrete_fields)
            start = len(selected)
            for field in fields:
                column = field.get_col(alias)
                functions = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
                if functions:
                    self.converters.append((len(selected), column_converter(functions, column, connection)))
                selected.append(f"{alias}.{quote(field_column(field))}")
            self.parts.append((model, [f.attname for f in fields], start, len(selected)))
        self.sql = ", ".join(selected)
        self.width = len(selected)

    def instances(self, row: Sequence[Any]) -> list[models.Model]:
        """One instance per part from the first ``width`` values of ``row``."""
        values = list(row[: self.width])
        for index, convert in self.converters:
            values[index] = convert(values[index])
        return [
            model.from_db(self.alias, attnames, values[start:end])
            for model, attnames, start, end in self.parts
        ]


def column_converter(
    functions: list[Callable[..., Any]], expression: Any, connection: BaseDatabaseWrapper
) -> Callable[[Any], Any]:
    """One function applying ``functions`` (a column's converters) in order, as the ORM does."""
    steps = [_sqlite_datetime(connection) if _is_sqlite_datetime(f, connection) else f for f in functions]
    if len(steps) == 1:
        step = steps[0]
        return lambda value: step(value, expression, connection)

    def convert(value: Any) -> Any:
        for function in steps:
            value = function(value, expression, connection)
        return value

    return convert


def _is_sqlite_datetime(function: Callable[..., Any], connection: BaseDatabaseWrapper) -> bool:
    return (
        connection.vendor == "sqlite" and getattr(function, "__name__", "") == "convert_datetimefield_value"
    )


def _sqlite_datetime(connection: BaseDatabaseWrapper) -> Callable[..., Any]:
    """Django's SQLite date-time converter with ``USE_TZ`` and the connection's time zone read once
    rather than per value (the lazy settings lookup was half the cost of a pulled row): the stored text
    parsed, a naive value made aware in the connection's time zone, as ``make_aware`` does."""
    aware, zone = settings.USE_TZ, connection.timezone

    def convert(value: Any, expression: Any, connection: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, datetime.datetime):
            value = parse_datetime(value)
        if aware and value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=zone)
        return value

    return convert
