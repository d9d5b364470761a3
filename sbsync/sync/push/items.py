"""The records of one push while it is applied, typed by phase: as sent (``Item``), read (``Read``),
decided (``Create``, ``Update``, ``Delete``); and what the push returns (``PushResult``)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar

from django.db import models

from sbsync.enums import RecordStatus
from sbsync.sync.changes.index import pk_key
from sbsync.sync.push.validation import NO_SUCH_ROW, PK_KEYS

CREATE, UPDATE, DELETE = "create", "update", "delete"
SUCCESS = frozenset(
    {RecordStatus.CREATED, RecordStatus.UPDATED, RecordStatus.DELETED, RecordStatus.UNCHANGED}
)
FAILURE = frozenset({RecordStatus.CONFLICT, RecordStatus.REJECTED, RecordStatus.FORBIDDEN})
DONE_BY_ACTION = {CREATE: RecordStatus.CREATED, UPDATE: RecordStatus.UPDATED, DELETE: RecordStatus.DELETED}


# What a result echoes of the client's own text (keys, model names, values quoted in messages) is cut to
# this many characters, so an error answer stays within a small multiple of the request, never a copy of
# a 4 MB value for each message that quotes it.
MAX_ECHO = 200


def excerpt(text: str) -> str:
    return text if len(text) <= MAX_ECHO else f"{text[:MAX_ECHO]}… ({len(text)} characters)"


@dataclass(eq=False)
class Item:
    """A pushed record as sent: what every record has, whatever became of it. ``status`` stays None
    while the record may still be applied. Records of a model the caller may not push stay this."""

    index: int
    record: dict[str, Any]
    status: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def open(self) -> bool:
        return self.status is None

    @property
    def label(self) -> str:
        return excerpt(str(self.record.get("_model")))

    def finish(self, status: str, **extra: Any) -> None:
        self.status = RecordStatus(status).value
        self.extra.update(extra)

    def reject(self, errors: dict[str, list[str]]) -> None:
        shortened = {
            excerpt(key): [excerpt(message) for message in messages] for key, messages in errors.items()
        }
        self.finish(RecordStatus.REJECTED, errors=shortened)

    def result(self, versions: dict[tuple[str, str], int], *, applied: bool) -> dict[str, Any]:
        result: dict[str, Any] = {"index": self.index, "_model": self.label}
        pk = self.reported_pk(applied)
        if pk is not None:
            result["id"] = _jsonable_pk(pk)
        elif (raw := self._raw_pk()) is not None:
            result["id"] = raw
        result["status"] = self.status
        version = self.reported_version(versions, pk, applied)
        if version is not None:
            result["_version"] = version
        result.update(self.extra)
        return result

    def reported_pk(self, applied: bool) -> Any:
        """The primary key to report, once read."""
        return None

    def reported_version(self, versions: dict[tuple[str, str], int], pk: Any, applied: bool) -> int | None:
        return None

    def _raw_pk(self) -> Any:
        """The key as sent, echoed for records whose key could not be read (scalars only)."""
        raw = next((self.record[k] for k in PK_KEYS if k in self.record), None)
        if isinstance(raw, str):
            return excerpt(raw)
        return raw if isinstance(raw, int) and not isinstance(raw, bool) else None


@dataclass(eq=False, kw_only=True)
class Read(Item):
    """Phase 1, read (no queries): a record of a model the caller may push, its primary key, version and
    converted field values."""

    model: type[models.Model]
    pk: Any = None
    pk_given: bool = False
    key: str = ""  # the primary key's text (``pk_key``), once read; empty when the record gives none
    deleted: bool = False
    version: int | None = None
    # Converted values by attname, and the key the client used for each field name (errors use it).
    values: dict[str, Any] = field(default_factory=dict)
    sent: dict[str, str] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    # The version of the row in the caller's view (None: no such row there), once looked up.
    current_version: int | None = None
    # In-batch creates this record's foreign keys point at, with the key naming the foreign key.
    depends: list[tuple[Read, str]] = field(default_factory=list)
    # Phase 2, set when the record is decided to be written.
    write: Write | None = None

    @cached_property
    def label(self) -> str:  # read for every record at every step: worked out once
        return self.model._meta.label

    def reported_pk(self, applied: bool) -> Any:
        """The primary key sent, or the one the server gave (only once written)."""
        if self.pk_given:
            return self.pk
        if self.status == RecordStatus.CREATED and applied and self.write is not None:
            return self.write.instance.pk
        return None

    def reported_version(self, versions: dict[tuple[str, str], int], pk: Any, applied: bool) -> int | None:
        if self.status in DONE_BY_ACTION.values() and applied and pk is not None:
            return versions.get((self.label, self.key if self.pk_given else pk_key(self.model, pk)))
        if self.status == RecordStatus.UNCHANGED:
            return self.current_version
        return None


@dataclass(eq=False)
class Write:
    """Phase 2, decided: a record to be written, as the model instance to save (a delete: the row as
    loaded). Phase 3, written, is the list of writes ``write_rows`` returns."""

    item: Read
    instance: models.Model
    action: ClassVar[str]
    # Whether the statement that wrote the row wrote its history too (sync/push/writes.py).
    history_written: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        self.item.write = self

    @property
    def model(self) -> type[models.Model]:
        return self.item.model

    @property
    def key(self) -> str:
        """The row's primary key text (``pk_key``): the one sent, or the one the server gave."""
        return self.item.key if self.item.pk_given else pk_key(self.model, self.instance.pk)


@dataclass(eq=False)
class Create(Write):
    action: ClassVar[str] = CREATE


@dataclass(eq=False, kw_only=True)
class Update(Write):
    action: ClassVar[str] = UPDATE
    # The values the written fields had when the row was loaded, by attname: foreign keys are checked
    # only where the record changes them.
    before: dict[str, Any]


@dataclass(eq=False)
class Delete(Write):
    action: ClassVar[str] = DELETE


def reject_dependents(items: list[Read]) -> None:
    """Reject every open item pointing at an in-batch create that failed, and those pointing at them."""
    changed = True
    while changed:
        changed = False
        for item in items:
            if not item.open:
                continue
            for maker, key in item.depends:
                if not maker.open:
                    item.reject({key: [NO_SUCH_ROW]})
                    changed = True
                    break


def _overall(success: int, errors: int, atomic_rejected: bool) -> str:
    if atomic_rejected or (errors and not success):
        return "error"
    return "partial" if errors else "success"


def _jsonable_pk(value: Any) -> Any:
    return value if isinstance(value, int) and not isinstance(value, bool) else str(value)


@dataclass
class PushResult:
    """What a push did (or, for dry runs and rejected atomic pushes, would have done)."""

    status: str
    success_count: int
    error_count: int
    processed_models: dict[str, dict[str, int]]
    results: list[dict[str, Any]]
    applied: bool
    atomic_rejected: bool = False

    @classmethod
    def from_items(
        cls, items: list[Item], versions: dict[tuple[str, str], int], *, applied: bool, atomic_rejected: bool
    ) -> PushResult:
        results = [item.result(versions, applied=applied) for item in items]
        statuses = Counter(r["status"] for r in results)
        success = sum(statuses[s] for s in SUCCESS)
        errors = sum(statuses[s] for s in FAILURE)
        processed: dict[str, dict[str, int]] = {}
        for item in items:
            if not isinstance(item, Read) or item.status == RecordStatus.FORBIDDEN:
                continue
            counts = processed.setdefault(item.label, {"created": 0, "updated": 0, "deleted": 0})
            if item.status in counts:
                counts[item.status] += 1
        return cls(
            _overall(success, errors, atomic_rejected),
            success,
            errors,
            processed,
            results,
            applied,
            atomic_rejected,
        )

    @property
    def all_forbidden(self) -> bool:
        return bool(self.results) and all(r["status"] == RecordStatus.FORBIDDEN for r in self.results)

    @property
    def any_rejected(self) -> bool:
        return any(r["status"] == RecordStatus.REJECTED for r in self.results)

    def applied_counts(self) -> dict[str, int]:
        """Records written per model (SyncMetadata's ``total_synced``)."""
        return {label: sum(counts.values()) for label, counts in self.processed_models.items()}

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "success_count": self.success_count,
            "error_count": self.error_count,
            "processed_models": self.processed_models,
            "results": self.results,
        }
