from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from django.core import signing

from sbsync.errors import ProtocolError
from sbsync.sync.pull.cursor import (
    PREFIX,
    Cursor,
    decode_cursor,
    parse_start,
)
from tests.factories import is_error

CURSOR = Cursor(organization=7, model_label="shop.Customer", scope=7, seq=1234, fingerprint="abcdef012345")


def test_a_cursor_survives_encoding_and_stays_compact():
    initial = Cursor(7, "shop.Customer", 7, 12, "abcdef012345", floor=99, initial=True)
    timestamp = Cursor(7, "shop.Customer", 7, 12, "abcdef012345", floor=99, from_timestamp=True)

    decoded = [decode_cursor(c.encode(), "shop.Customer") for c in (CURSOR, initial, timestamp)]

    assert decoded == [CURSOR, initial, timestamp]
    assert CURSOR.encode().startswith(PREFIX)
    assert len(initial.encode()) < 130


def test_a_cursor_is_url_safe_text():
    text = CURSOR.encode()

    assert set(text[len(PREFIX) :]) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.:"
    )


def test_a_tampered_position_is_rejected():
    payload, signature = CURSOR.encode()[len(PREFIX) :].rsplit(".", 1)
    forged = base64.urlsafe_b64encode(b'[1,7,"shop.Customer",7,1,"abcdef012345"]').decode().rstrip("=")

    with pytest.raises(ProtocolError, check=is_error("invalid_cursor", 400)):
        decode_cursor(f"{PREFIX}{forged}.{signature}", "shop.Customer")


@pytest.mark.parametrize(
    "garbage", ["c:", "c:abc", "c:abc.def", "c:..", "c:" + "A" * 2000, "c:\u00e9\u00e9.x"]
)
def test_garbage_is_an_invalid_cursor(garbage):
    with pytest.raises(ProtocolError, check=is_error("invalid_cursor", 400)) as caught:
        decode_cursor(garbage, "shop.Customer")

    assert list(caught.value.errors) == ["models.shop.Customer"]
    assert caught.value.code == "invalid_cursor"


def test_a_value_signed_for_another_purpose_is_not_a_cursor():
    other = signing.Signer(salt="something.else", sep=".").sign_object([1, 7, "shop.Customer", 7, 5, "f"])

    with pytest.raises(ProtocolError, check=is_error("invalid_cursor", 400)):
        decode_cursor(PREFIX + other, "shop.Customer")


def test_a_signed_value_of_the_wrong_shape_is_not_a_cursor():
    wrong = signing.Signer(salt="sbsync.cursor", sep=".").sign_object([1, 7, "shop.Customer", -3, 5, "f"])

    with pytest.raises(ProtocolError, check=is_error("invalid_cursor", 400)):
        decode_cursor(PREFIX + wrong, "shop.Customer")


def test_advancing_past_the_floor_leaves_a_plain_position():
    initial = Cursor(7, "shop.Customer", 7, 0, "f", floor=50, initial=True)

    inside, past = initial.advanced(20), initial.advanced(60)

    assert (inside.seq, inside.floor, inside.initial) == (20, 50, True)
    assert (past.seq, past.floor, past.initial) == (60, 0, False)
    assert (inside.reached, past.reached) == (50, 60)


def test_start_null_means_from_the_beginning():
    assert parse_start(None, "shop.Customer") is None


def test_start_timestamps_are_read_as_iso_8601_and_naive_ones_in_the_server_time_zone(settings):
    settings.TIME_ZONE = "UTC"

    zulu = parse_start("2024-01-14T10:00:00Z", "shop.Customer")
    offset = parse_start("2024-01-14T12:00:00+02:00", "shop.Customer")
    naive = parse_start("2024-01-14T10:00:00", "shop.Customer")

    assert zulu == offset == naive == datetime(2024, 1, 14, 10, tzinfo=UTC)


@pytest.mark.parametrize("text", ["yesterday", "2024-13-01T00:00:00Z", "2024-01-14T25:00:00Z", "", "1" * 100])
def test_an_invalid_timestamp_is_rejected_naming_the_model(text):
    with pytest.raises(ProtocolError, check=is_error("invalid_timestamp", 400)) as caught:
        parse_start(text, "shop.Order")

    assert list(caught.value.errors) == ["models.shop.Order"]
    assert "shop.Order" in caught.value.detail


def test_start_cursors_are_decoded():
    assert parse_start(CURSOR.encode(), "shop.Customer") == CURSOR


def test_cursors_survive_a_key_rotation_with_fallbacks_and_not_without(settings):
    settings.SECRET_KEY = "old-key-" + "x" * 50
    text = CURSOR.encode()
    settings.SECRET_KEY = "new-key-" + "y" * 50

    settings.SECRET_KEY_FALLBACKS = ["old-key-" + "x" * 50]
    kept = decode_cursor(text, "shop.Customer")
    settings.SECRET_KEY_FALLBACKS = []

    assert kept == CURSOR
    with pytest.raises(ProtocolError, check=is_error("invalid_cursor", 400)):
        decode_cursor(text, "shop.Customer")
