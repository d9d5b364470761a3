"""JSON as the API writes it (orjson: UTC datetimes with ``Z``, Decimals and UUIDs as strings, binary
values in base64, the form push reads for a BinaryField).

The API's renderer uses ``dumps``; answers stored for replay (idempotency records, async jobs) go
through ``json_data`` first, so a replayed answer is byte for byte the answer first given.
"""

from __future__ import annotations

import base64
import decimal
from typing import Any

import orjson


def _default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (bytes, memoryview)):
        return base64.b64encode(value).decode("ascii")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def dumps(data: Any) -> bytes:
    return orjson.dumps(data, default=_default, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_UTC_Z)


def json_data(data: Any) -> Any:
    """``data`` with every value turned into what JSON holds (str, int, float, bool, None, list, dict)."""
    return orjson.loads(dumps(data))
