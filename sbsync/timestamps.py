"""Timestamps the API accepts, in the one form every database stores: UTC, within years 1 to 9999.

PostgreSQL refuses offsets of 16 hours and more, and a local time near year 1 or 9999 can fall outside
Python's range once converted (SQLite stores UTC): a value is converted here, where a client's bad value
is a 400, never on its way to the database, where it was a 500.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.utils import timezone

OUT_OF_RANGE = "outside the years 1 to 9999 once converted to UTC"


def as_utc(moment: datetime) -> datetime:
    """``moment`` (aware, or naive in the current time zone) in UTC. ValueError when out of range."""
    try:
        aware = moment if timezone.is_aware(moment) else timezone.make_aware(moment)
        return aware.astimezone(UTC)
    except (OverflowError, ValueError):
        raise ValueError(OUT_OF_RANGE) from None
