"""``array_literal``: the arrays a push passes as one text parameter read back as the values they hold."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.db import connection, models

from sbsync.sync.push.sql import array_literal


class Colour(models.TextChoices):
    RED = "red"


class Size(models.IntegerChoices):
    LARGE = 3


CASES = [
    (
        "text",
        ["plain", 'with "quotes"', "back\\slash", "comma, {brace}", " spaced ", "", "NULL", None, Colour.RED],
    ),
    ("uuid", [uuid.UUID(int=1), uuid.uuid4(), None]),
    ("bigint", [0, -5, 2**62, None, Size.LARGE]),
    ("boolean", [True, False, None]),
    ("numeric", [Decimal("1.50"), Decimal("-0.001"), Decimal("1E+3"), None]),
    ("timestamptz", [datetime(2026, 1, 31, 10, 0, 0, 123456, tzinfo=UTC), None]),
    ("date", [date(1, 1, 1), date(2026, 12, 7)]),
]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="array parameters are PostgreSQL's")
@pytest.mark.parametrize(("kind", "values"), CASES, ids=[kind for kind, _ in CASES])
def test_an_array_written_as_text_reads_back_as_the_list_psycopg_would_send(db, kind, values):
    literal = array_literal(values)
    assert isinstance(literal, str)
    with connection.cursor() as cursor:
        plain = [value.value if isinstance(value, models.Choices) else value for value in values]
        cursor.execute(f"SELECT %s::{kind}[], %s::{kind}[]", [literal, plain])
        from_text, from_list = cursor.fetchone()
    assert from_text == from_list
    assert len(from_text) == len(values)


def test_values_of_other_types_are_left_to_the_driver():
    values = [{"a": 1}, "text"]
    assert array_literal(values) is values
