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
import uuid
from typing import Any

from django.db import models
from django.db.models import Lookup

# Written as their ``str()``, unquoted: their text holds no character the array syntax reserves.
_BARE = (uuid.UUID, decimal.Decimal)
# Written as their ISO text, quoted.
_ISO = (datetime.datetime, datetime.date, datetime.time)


def array_literal(values: list[Any]) -> str | list[Any]:
    """PostgreSQL's text form of the array ``values`` (``{"a b",NULL,3}``), to pass where the SQL casts
    the parameter to an array type; ``values`` unchanged when an element is of a type this does not
    write (psycopg then dumps the list itself)."""
    parts = []
    for value in values:
        if value is None:
            parts.append("NULL")
        elif isinstance(value, bool):
            parts.append("t" if value else "f")
        elif isinstance(value, str):
            parts.append('"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"')
        elif isinstance(value, int):
            parts.append(int.__repr__(value))  # an int subclass (an enum) as its number
        elif isinstance(value, _BARE):
            parts.append(str(value))
        elif isinstance(value, _ISO):
            parts.append('"' + value.isoformat() + '"')
        else:
            return values
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
