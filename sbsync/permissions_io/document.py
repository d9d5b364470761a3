"""The permissions document's format: its keys, its parsed form, and reading and writing its file."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.contrib.auth.models import Group
from django.db import models
from django.utils import timezone

from sbsync.models import DataFilter
from sbsync.models.access import FLAG_FIELDS

FORMAT = "sbsync.permissions/1"
INFO_KEYS = frozenset({"format", "organization", "template", "generated_at", "description"})
PART_KEYS = frozenset({"permissions", "filters"})
TOP_KEYS = INFO_KEYS | PART_KEYS
PERMISSION_KEYS = frozenset({"group", "model", *FLAG_FIELDS})
FILTER_KEYS = frozenset({"group", "model", "name", "condition", "is_active"})
FILTER_NAME_MAX: int = getattr(DataFilter._meta.get_field("name"), "max_length", None) or 100


class DocumentError(Exception):
    """A permissions document that cannot be read or is invalid; ``errors`` lists every problem."""

    def __init__(self, errors: list[str], heading: str = "") -> None:
        self.errors = errors
        self.heading = heading
        super().__init__(str(self))

    def __str__(self) -> str:
        if not self.heading and len(self.errors) == 1:
            return self.errors[0]
        lines = "\n".join(f"  - {e}" for e in self.errors)
        return f"{self.heading or 'Invalid permissions document'}:\n{lines}"


@dataclass(frozen=True)
class PermissionEntry:
    group: Group
    model: type[models.Model]
    flags: dict[str, bool]

    @property
    def label(self) -> str:
        return self.model._meta.label

    def to_json(self) -> dict[str, Any]:
        return {"group": self.group.name, "model": self.label, **self.flags}


@dataclass(frozen=True)
class FilterEntry:
    group: Group
    model: type[models.Model]
    name: str
    condition: dict[str, Any]
    is_active: bool = True

    @property
    def label(self) -> str:
        return self.model._meta.label

    def to_json(self) -> dict[str, Any]:
        return {
            "group": self.group.name,
            "model": self.label,
            "name": self.name,
            "condition": self.condition,
            "is_active": self.is_active,
        }


@dataclass(frozen=True)
class PermissionDocument:
    organization: str | None
    permissions: tuple[PermissionEntry, ...]
    filters: tuple[FilterEntry, ...] = ()
    template: str | None = None
    warnings: tuple[str, ...] = ()

    def part_json(self) -> dict[str, Any]:
        """The ``permissions`` and ``filters`` alone: one organization's part of a larger document."""
        return {
            "permissions": [p.to_json() for p in self.permissions],
            "filters": [f.to_json() for f in self.filters],
        }

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"format": FORMAT, "organization": self.organization}
        if self.template:
            data["template"] = self.template
        data["generated_at"] = timezone.now().isoformat(timespec="seconds")
        return data | self.part_json()


def read_json(path: str | Path) -> Any:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DocumentError([f"{path}: no such file."]) from None
    except IsADirectoryError:
        raise DocumentError([f"{path} is a directory, not a JSON file."]) from None
    except UnicodeDecodeError:
        raise DocumentError([f"{path} is not UTF-8 text."]) from None
    except OSError as exc:
        raise DocumentError([f"{path} cannot be read: {exc.strerror or exc}."]) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DocumentError(
            [f"{path} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."]
        ) from None


def write_json(data: dict[str, Any], path: str | Path) -> None:
    """Write ``data`` to ``path`` whole: a failed write leaves no truncated file behind."""
    target = Path(path)
    if not target.parent.is_dir():
        raise DocumentError([f"Cannot write {path}: directory {str(target.parent)!r} does not exist."])
    temporary = target.with_name(f".{target.name}.tmp")
    try:
        temporary.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        temporary.replace(target)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise DocumentError([f"Cannot write {path}: {exc.strerror or exc}."]) from None
