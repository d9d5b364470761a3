"""SyncMetadata and UserSyncMetadata: when a model last synced and how many records moved, written with
one upsert per table (an insert of the missing rows and an update of the others in one statement).

A pull's metadata is written with its activity (``Synced``, sbsync/sync/activity.py): on PostgreSQL the
two upserts, the read of the user's previous sync times, the SyncLog and the metrics row are one
statement."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from sbsync.models import SyncMetadata, UserSyncMetadata
from sbsync.rows import column_converter

Statement = tuple[str, list[Any]]


@dataclass
class Synced:
    """What one pull moved, per model label, for the sync metadata of its user and its organization;
    ``previous`` is filled in when written: the user's last sync of each model before this one."""

    user_id: Any
    organization_id: int
    moved: dict[str, int]
    now: datetime
    previous: dict[str, datetime] = field(default_factory=dict)

    def upserts(self, connection: BaseDatabaseWrapper) -> list[Statement]:
        """The two upserts (user, then organization), for ``write`` to run or a caller to fold into
        one statement."""
        found = [
            touch_statement(
                connection,
                UserSyncMetadata,
                ["user_id", "organization_id", "model_name"],
                [([self.user_id, self.organization_id, label], n) for label, n in self.moved.items()],
                self.now,
            ),
            organization_upsert(connection, self.organization_id, self.moved, self.now),
        ]
        return [statement for statement in found if statement is not None]

    def previous_query(self, connection: BaseDatabaseWrapper) -> Statement:
        """The user's last sync time of each model moved (``model_name, last_sync``), as of before the
        upserts."""
        table = connection.ops.quote_name(UserSyncMetadata._meta.db_table)
        labels = list(self.moved)
        return (
            f"SELECT model_name, last_sync FROM {table} WHERE user_id = %s AND organization_id = %s "
            f"AND model_name IN ({', '.join(['%s'] * len(labels))})",
            [self.user_id, self.organization_id, *labels],
        )

    def write(self) -> None:
        """Read the previous sync times, then upsert (each statement on its own, as ``touch`` does)."""
        if not self.moved:
            return
        connection = transaction.get_connection()
        with connection.cursor() as cursor:
            cursor.execute(*self.previous_query(connection))
            self.read_previous(cursor.fetchall(), connection)
            for statement in self.upserts(connection):
                cursor.execute(*statement)

    def read_previous(self, rows: list[tuple[Any, Any]], connection: BaseDatabaseWrapper) -> None:
        """Take ``(model_name, last_sync)`` rows as the database gave them (a LEFT JOIN's NULL row
        skipped), ``last_sync`` converted as the ORM would."""
        column = UserSyncMetadata._meta.get_field("last_sync").get_col(UserSyncMetadata._meta.db_table)
        functions = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        convert = column_converter(functions, column, connection)
        for label, last_sync in rows:
            if label is not None:
                self.previous[label] = convert(last_sync)


def touch_statement(
    connection: BaseDatabaseWrapper,
    model: type[models.Model],
    keys: list[str],
    rows: list[tuple[list[Any], int]],
    now: datetime,
) -> Statement | None:
    """For each ``(key values, records moved)`` of ``rows``: ``last_sync = now`` and ``total_synced +=
    moved``, creating the row when missing, as one upsert (None when ``rows`` is empty). Rows are
    written in key order, so two writers of the same rows cannot deadlock."""
    if not rows:
        return None
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = [quote(column) for column in keys]
    when = connection.ops.adapt_datetimefield_value(now)
    params: list[Any] = []
    for values, moved in sorted(rows, key=lambda row: [str(v) for v in row[0]]):
        params += [*values, when, moved]
    placeholders = "(" + ", ".join(["%s"] * (len(keys) + 2)) + ")"
    return (
        f"INSERT INTO {table} ({', '.join(columns)}, last_sync, total_synced) VALUES "
        + ", ".join([placeholders] * len(rows))
        + f" ON CONFLICT ({', '.join(columns)}) DO UPDATE SET last_sync = excluded.last_sync, "
        f"total_synced = {table}.total_synced + excluded.total_synced",
        params,
    )


def organization_upsert(
    connection: BaseDatabaseWrapper, organization_id: int, moved: dict[str, int], now: datetime
) -> Statement | None:
    return touch_statement(
        connection,
        SyncMetadata,
        ["organization_id", "model_name"],
        [([organization_id, label], n) for label, n in moved.items()],
        now,
    )


def touch_organization(organization_id: int, moved: dict[str, int], now: datetime) -> None:
    """The organization's sync metadata for a push (a pull's goes with its activity: ``Synced``)."""
    connection = transaction.get_connection()
    statement = organization_upsert(connection, organization_id, moved, now)
    if statement is not None:
        with connection.cursor() as cursor:
            cursor.execute(*statement)
