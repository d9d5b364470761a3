"""The envelope of a push (sbsync/docs/protocol.md section 4): everything checked before any record is looked at.

A bad envelope fails the whole request (400, or 413 past MAX_PUSH_RECORDS) and nothing runs; a bad
record inside a good envelope only fails that record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sbsync import conf, discovery
from sbsync.errors import ProtocolError
from sbsync.sync.jsondata import check_depth

KEYS = frozenset({"data", "atomic", "dry_run", "async", "batch_id", "organization"})
FLAGS = ("atomic", "dry_run", "async")
MAX_KEY_LENGTH = 255
MAX_REPORTED_ERRORS = 20


@dataclass(frozen=True)
class PushEnvelope:
    records: list[dict[str, Any]]
    atomic: bool = False
    dry_run: bool = False
    run_async: bool = False
    batch_id: str | None = None
    body: dict[str, Any] = field(default_factory=dict)

    def idempotency_key(self, header: str | None) -> str | None:
        """The key a push is replayed by: the ``Idempotency-Key`` header or ``batch_id`` (they must
        agree when both are sent). Dry runs are never stored, so they have none."""
        if header is not None:
            check_key("Idempotency-Key", header)
            if self.batch_id is not None and self.batch_id != header:
                raise ProtocolError(
                    400,
                    "validation_error",
                    "The Idempotency-Key header and batch_id differ: send one, or the same value.",
                    {"batch_id": ["Differs from the Idempotency-Key header."]},
                )
        key = header if header is not None else self.batch_id
        return None if self.dry_run else key


def check_key(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_KEY_LENGTH or "\x00" in value:
        raise ProtocolError(
            400,
            "validation_error",
            f"{name} must be a non-empty string of at most {MAX_KEY_LENGTH} characters, without NUL.",
            {name: [f"Give a non-empty string of at most {MAX_KEY_LENGTH} characters, without NUL."]},
        )
    return value


def parse_envelope(body: Any) -> PushEnvelope:
    """The envelope of a push body; ProtocolError ``validation_error`` (400) or ``too_many_records`` (413)."""
    if not isinstance(body, dict):
        raise ProtocolError(400, "validation_error", 'Send a JSON object: {"data": [records]}.')
    unknown = sorted(set(body) - KEYS)
    if unknown:
        raise ProtocolError(
            400,
            "validation_error",
            f"Unknown key {unknown[0]!r}; the envelope has {', '.join(sorted(KEYS))}.",
            {key: ["Unknown key."] for key in unknown[:MAX_REPORTED_ERRORS]},
        )
    if "data" not in body:
        raise ProtocolError(
            400, "validation_error", "data is required.", {"data": ["This field is required."]}
        )
    records = body["data"]
    if not isinstance(records, list):
        raise ProtocolError(
            400, "validation_error", "data must be a list of records.", {"data": ["Give a list of records."]}
        )
    limit = conf.get("MAX_PUSH_RECORDS")
    if len(records) > limit:
        raise ProtocolError(
            413, "too_many_records", f"A push holds at most {limit} records; this one has {len(records)}."
        )
    errors: dict[str, list[str]] = {}
    for name in FLAGS:
        if name in body and not isinstance(body[name], bool):
            errors[name] = ["Give true or false."]
    batch_id = body.get("batch_id")
    if batch_id is not None:
        try:
            check_key("batch_id", batch_id)
        except ProtocolError as exc:
            errors.update(exc.errors or {})
    for index, record in enumerate(records):
        if len(errors) >= MAX_REPORTED_ERRORS:
            break
        if not isinstance(record, dict):
            errors[f"data.{index}"] = ["Each record must be an object."]
        elif not isinstance(record.get("_model"), str) or not record["_model"]:
            errors[f"data.{index}._model"] = ["Name the model: app_label.ModelName."]
    if errors:
        first = next(iter(errors))
        raise ProtocolError(400, "validation_error", f"{first}: {errors[first][0]}", errors)
    # A label that is no model of the project is a mistake of the client, not a permission: 400. A model
    # that exists but is not enabled, or that the role may not push, is each record's "forbidden".
    # Each label once: a push of 500 records names one model or a few.
    missing = {
        label
        for label in {record["_model"] for record in records}
        if discovery.installed_model(label) is None
    }
    unknown_at = {
        index: record["_model"] for index, record in enumerate(records) if record["_model"] in missing
    }
    if unknown_at:
        labels = list(dict.fromkeys(unknown_at.values()))
        raise discovery.unknown_model_error(labels, [f"data.{index}._model" for index in unknown_at])
    check_depth(body)
    return PushEnvelope(
        records=records,
        atomic=body.get("atomic", False),
        dry_run=body.get("dry_run", False),
        run_async=body.get("async", False),
        batch_id=batch_id,
        body=body,
    )
