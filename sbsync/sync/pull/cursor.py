"""Pull cursors: where a client stands in one model's change order, as an opaque signed string.

A cursor is ``c:<payload>.<signature>``: a compact base64url JSON list signed with Django's signing
(salt ``sbsync.cursor``), so a client can neither forge a position nor move a cursor to another
organization or model. It carries

* ``organization``, ``model_label`` and ``scope``: whose change order it points into;
* ``seq``: the last position the client has been served;
* ``fingerprint``: ``Access.fingerprint`` of the view it was served under; a different view rescans;
* ``floor`` and ``initial``: records at or below ``floor`` the client cannot hold. While ``initial``
  (a first sync that started when the clock stood at ``floor``), tombstones and rows outside the view at
  or below the floor are skipped: a fresh client holds nothing to delete. While ``from_timestamp`` (a
  first pull from a timestamp, the clock at ``floor``), only rows outside the view are skipped there: the
  client may hold deleted rows, never rows it could not see. Otherwise (a rescan after the view changed)
  only tombstones at or below the floor are skipped: the client already received them.

A start position in a pull request is ``null`` (from the beginning), an ISO-8601 timestamp (the seed's
form) or a cursor. ``parse_start`` tells them apart and rejects anything else.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from django.core import signing
from django.utils.dateparse import parse_datetime

from sbsync.errors import ProtocolError
from sbsync.timestamps import OUT_OF_RANGE, as_utc

PREFIX = "c:"
SALT = "sbsync.cursor"
FORMAT = 1
MAX_TIMESTAMP_LENGTH = 64
MAX_CURSOR_LENGTH = 1024


def _signer() -> signing.Signer:
    """Built per use, so SECRET_KEY and SECRET_KEY_FALLBACKS are read as they are now."""
    return signing.Signer(salt=SALT, sep=".")


def start_error(status: int, code: str, model_label: str, detail: str) -> ProtocolError:
    """The error of one model's start position, reported under ``models.<label>``."""
    return ProtocolError(status, code, detail, {f"models.{model_label}": [detail]})


def invalid_cursor(model_label: str, detail: str) -> ProtocolError:
    return start_error(400, "invalid_cursor", model_label, detail)


def cursor_expired(model_label: str, detail: str) -> ProtocolError:
    """410: a position older than the tombstone horizon; the client pulls the model again from null."""
    return start_error(410, "cursor_expired", model_label, detail)


@dataclass(frozen=True)
class Cursor:
    organization: int
    model_label: str
    scope: int
    seq: int
    fingerprint: str
    floor: int = 0
    initial: bool = False
    from_timestamp: bool = False

    @property
    def reached(self) -> int:
        """Everything at or below this position is settled for the client (served, or skippable)."""
        return max(self.seq, self.floor)

    def advanced(self, seq: int) -> Cursor:
        """The cursor after serving up to ``seq``; past the floor it is a plain position."""
        if seq >= self.floor:
            return replace(self, seq=seq, floor=0, initial=False, from_timestamp=False)
        return replace(self, seq=seq)

    def encode(self) -> str:
        values = [FORMAT, self.organization, self.model_label, self.scope, self.seq, self.fingerprint]
        if self.floor:
            values += [self.floor, int(self.initial)] + ([1] if self.from_timestamp else [])
        return PREFIX + _signer().sign_object(values, compress=True)


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def decode_cursor(text: str, model_label: str) -> Cursor:
    """The cursor in ``text``; ``invalid_cursor`` when it is garbage or was tampered with."""
    not_ours = invalid_cursor(model_label, f"The cursor of {model_label} is not a cursor this server issued.")
    if len(text) > MAX_CURSOR_LENGTH:
        raise not_ours
    try:
        values = _signer().unsign_object(text.removeprefix(PREFIX))
    except (signing.BadSignature, ValueError, TypeError, UnicodeError, OverflowError):
        raise not_ours from None
    if not isinstance(values, list) or len(values) not in (6, 8, 9) or values[0] != FORMAT:
        raise not_ours
    organization, label, scope, seq, fingerprint, *rest = values[1:]
    floor, initial, from_timestamp = (*rest, 0) if len(rest) == 2 else rest if rest else (0, 0, 0)
    if not (
        _int(organization)
        and isinstance(label, str)
        and _int(scope)
        and _int(seq)
        and isinstance(fingerprint, str)
        and _int(floor)
        and initial in (0, 1)
        and from_timestamp in (0, 1)
    ):
        raise not_ours
    return Cursor(organization, label, scope, seq, fingerprint, floor, bool(initial), bool(from_timestamp))


def parse_timestamp(text: str, model_label: str) -> datetime:
    """An ISO-8601 date-time; a naive one is read in the server's time zone."""
    try:
        moment = parse_datetime(text) if len(text) <= MAX_TIMESTAMP_LENGTH else None
    except ValueError:
        moment = None
    if moment is None:
        raise start_error(
            400,
            "invalid_timestamp",
            model_label,
            f"The start of {model_label} must be null, a cursor or an ISO-8601 timestamp like "
            f"2024-01-14T10:00:00Z; {text[:80]!r} is none of them.",
        )
    try:
        return as_utc(moment)
    except ValueError:
        raise start_error(
            400,
            "validation_error",
            model_label,
            f"The start of {model_label} is {OUT_OF_RANGE}: {text[:80]!r}.",
        ) from None


def parse_start(value: str | None, model_label: str) -> Cursor | datetime | None:
    """A pull request's start position for one model: None, a timestamp, or a cursor."""
    if value is None:
        return None
    if value.startswith(PREFIX):
        return decode_cursor(value, model_label)
    return parse_timestamp(value, model_label)
