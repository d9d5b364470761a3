"""Model instances from one hand-written SELECT, for the lookups every sync request makes (the token with
its user, the membership with its organization and group).

Compiling those as ORM queries cost more than running them: about 2 ms of a pull's 15 for the membership
alone. ``Columns`` lists the concrete fields of a few models under table aliases once per process and
database, and turns a fetched row back into instances as the ORM would: the same converters (the
backend's and each field's ``from_db_value``, looked up once) and ``Model.from_db``, so the instances
behave like any loaded from a queryset.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.db import connection, models
from django.db.backends.base.base import BaseDatabaseWrapper

from sbsync.sync.records import column_converter

T = TypeVar("T")


def once_per_database(build: Callable[[BaseDatabaseWrapper], T]) -> Callable[[], T]:
    """``build(connection)`` for the default connection, made once per process and database alias."""
    built: dict[str, T] = {}

    def get() -> T:
        if connection.alias not in built:
            built[connection.alias] = build(connection)
        return built[connection.alias]

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
                selected.append(f"{alias}.{quote(field.column)}")
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
