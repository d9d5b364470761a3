"""Membership tests on many keys, written so the driver has little to do.

A push names up to 500 keys per model, several times (the locked lookup, versions, history, deletes). As
``IN (%s, %s, …)`` each key is a placeholder that psycopg finds in the query text and adapts on its own;
on PostgreSQL one array parameter (``= ANY(%s::type[])``) does the same work at a fraction of the cost.
SQLite keeps ``IN``.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Lookup


def _array_type(field: models.Field[Any, Any], connection: Any) -> str:
    """The column type without its parameters (``varchar``, not ``varchar(255)``), as array casts want."""
    return (field.db_type(connection) or "").split("(")[0]


def in_values(
    column: str, field: models.Field[Any, Any], values: list[Any], connection: Any
) -> tuple[str, list[Any]]:
    """SQL (and parameters) for "``column`` is one of ``values``", the values of ``field``."""
    prepped = [field.get_db_prep_value(value, connection, prepared=False) for value in values]
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s::{_array_type(field, connection)}[])", [prepped]
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
