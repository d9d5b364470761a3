"""SyncMetadata and UserSyncMetadata: when a model last synced and how many records moved, written with
one upsert per table (an insert of the missing rows and an update of the others in one statement)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import models, transaction

from sbsync.models import SyncMetadata, UserSyncMetadata


def touch(
    model: type[models.Model], keys: list[str], rows: list[tuple[list[Any], int]], now: datetime
) -> None:
    """For each ``(key values, records moved)`` of ``rows``: ``last_sync = now`` and ``total_synced +=
    moved``, creating the row when missing. Rows are written in key order, so two writers of the same
    rows cannot deadlock."""
    if not rows:
        return
    connection = transaction.get_connection()
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = [quote(column) for column in keys]
    when = connection.ops.adapt_datetimefield_value(now)
    params: list[Any] = []
    for values, moved in sorted(rows, key=lambda row: [str(v) for v in row[0]]):
        params += [*values, when, moved]
    placeholders = "(" + ", ".join(["%s"] * (len(keys) + 2)) + ")"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}, last_sync, total_synced) VALUES "
            + ", ".join([placeholders] * len(rows))
            + f" ON CONFLICT ({', '.join(columns)}) DO UPDATE SET last_sync = excluded.last_sync, "
            f"total_synced = {table}.total_synced + excluded.total_synced",
            params,
        )


def touch_organization(organization_id: int, moved: dict[str, int], now: datetime) -> None:
    touch(
        SyncMetadata,
        ["organization_id", "model_name"],
        [([organization_id, label], n) for label, n in moved.items()],
        now,
    )


def touch_user(user_id: Any, organization_id: int, moved: dict[str, int], now: datetime) -> None:
    touch(
        UserSyncMetadata,
        ["user_id", "organization_id", "model_name"],
        [([user_id, organization_id, label], n) for label, n in moved.items()],
        now,
    )
