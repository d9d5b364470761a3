"""SQLite: let bulk statements use the variable limit the linked SQLite really has.

Django assumes SQLite's historical limit of 999 bound variables per statement, so a bulk insert of 500
rows of 7 columns becomes 4 statements, and the statement count of a push grows with its size. SQLite has
allowed 32766 since 3.32; we read the actual limit from the connection and set it on that connection's
features, so bulk writes stay one statement per model at any push size sbsync accepts.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from django.db.backends.signals import connection_created


def raise_variable_limit(sender: Any, connection: Any, **kwargs: Any) -> None:
    if connection.vendor != "sqlite":
        return
    limit = connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    if limit > connection.features.max_query_params:
        connection.features.max_query_params = limit


def connect() -> None:
    connection_created.connect(raise_variable_limit, dispatch_uid="sbsync.sqlite.variable_limit")
