"""Membership tests and column lists of many values, written so the driver has little to do.

A push names up to 500 keys per model, several times (the row-key locks, the locked lookup, the writes,
history, deletes, the change index). As ``IN (%s, %s, …)`` each key is a placeholder that psycopg finds in
the query text and adapts on its own; on PostgreSQL one array parameter (``= ANY(%s::type[])``) does the
same work at a fraction of the cost. SQLite keeps ``IN``.

Even one array parameter costs psycopg a dumper lookup, a dump and a quoting regex per element (about
7 ms per push of 500 updates: ten arrays of 500). ``array_literal`` writes the array's text form
itself, one string the driver escapes in C, for the types a push passes (keys, text, numbers, booleans,
date-times); the SQL is the same (``%s::uuid[]`` reads a string as it reads a list).
"""

from __future__ import annotations

import datetime
import decimal
import operator
import uuid
from collections.abc import Callable
from typing import Any

from django.db import models
from django.db.models import Lookup


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _iso(value: datetime.date | datetime.time) -> str:
    return '"' + value.isoformat() + '"'


# How each type an element may have is written; looked up by the element's exact type (a subclass, an
# enum say, goes through ``_element``).
_WRITERS: dict[type, Callable[[Any], str]] = {
    str: _quoted,
    int: int.__repr__,
    bool: lambda value: "t" if value else "f",
    uuid.UUID: operator.attrgetter("hex"),  # PostgreSQL reads 32 hex digits; 4 times faster than str()
    decimal.Decimal: str,
    datetime.datetime: _iso,
    datetime.date: _iso,
    datetime.time: _iso,
    type(None): lambda value: "NULL",
}


def _element(value: Any) -> str | None:
    """The text of ``value``, of a subclass of a type ``_WRITERS`` knows; None for other types."""
    for kind in (bool, int, str, uuid.UUID, decimal.Decimal, datetime.datetime, datetime.date, datetime.time):
        if isinstance(value, kind):
            return _WRITERS[kind](value)
    return None


def array_literal(values: list[Any]) -> str | list[Any]:
    """PostgreSQL's text form of the array ``values`` (``{"a b",NULL,3}``), to pass where the SQL casts
    the parameter to an array type; ``values`` unchanged when an element is of a type this does not
    write (psycopg then dumps the list itself)."""
    kinds = set(map(type, values))
    if len(kinds) == 1 and (writer := _WRITERS.get(kinds.pop())) is not None:
        return "{" + ",".join(map(writer, values)) + "}"
    parts = []
    for value in values:
        writer = _WRITERS.get(type(value))
        text = writer(value) if writer is not None else _element(value)
        if text is None:
            return values
        parts.append(text)
    return "{" + ",".join(parts) + "}"


def array_type(field: models.Field[Any, Any], connection: Any) -> str:
    """The column type without its parameters (``varchar``, not ``varchar(255)``), as array casts want."""
    return (field.db_type(connection) or "").split("(")[0]


def in_values(
    column: str, field: models.Field[Any, Any], values: list[Any], connection: Any
) -> tuple[str, list[Any]]:
    """SQL (and parameters) for "``column`` is one of ``values``", the values of ``field``."""
    prepped = [field.get_db_prep_value(value, connection, prepared=False) for value in values]
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s::{array_type(field, connection)}[])", [array_literal(prepped)]
    if not prepped:
        return "1 = 0", []
    return f"{column} IN ({', '.join(['%s'] * len(prepped))})", prepped


class AnyOf(Lookup):
    """``filter(AnyOf(F("pk"), values))``: the ORM's ``pk__in`` written by ``in_values``."""

    lookup_name = "sbsync_any_of"
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> Any:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        sql, params = in_values(lhs, self.lhs.output_field, list(self.rhs), connection)
        return sql, [*lhs_params, *params]
