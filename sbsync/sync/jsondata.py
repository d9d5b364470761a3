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

from sbsync.errors import ProtocolError


def _default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (bytes, memoryview)):
        return base64.b64encode(value).decode("ascii")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


# orjson refuses nesting past 1024 levels; a body nested deeper than this is refused by the API's parser
# (and push's envelope, for bodies that come another way), well before anything recursive (request-data
# redaction, logging, JSON columns) meets it.
MAX_DEPTH = 32


def nesting_depth(value: Any) -> int:
    """How deeply lists and objects nest in ``value`` (a scalar is 0), counted up to one past
    MAX_DEPTH. Level by level, looking only at containers: a push body of 500 flat records is 501
    containers, not every value. Iterative: no recursion limit."""
    depth = 0
    level = [value] if isinstance(value, (dict, list)) else []
    while level and depth <= MAX_DEPTH:
        depth += 1
        level = [
            child
            for item in level
            for child in (item.values() if isinstance(item, dict) else item)
            if isinstance(child, (dict, list))
        ]
    return depth


def check_depth(body: Any) -> None:
    if nesting_depth(body) > MAX_DEPTH:
        raise ProtocolError(
            400,
            "validation_error",
            f"Values nest too deeply: the body may nest at most {MAX_DEPTH} levels of lists and objects.",
        )


def dumps(data: Any) -> bytes:
    return orjson.dumps(data, default=_default, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_UTC_Z)


def json_data(data: Any) -> Any:
    """``data`` with every value turned into what JSON holds (str, int, float, bool, None, list, dict)."""
    return orjson.loads(dumps(data))
