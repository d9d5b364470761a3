"""A model as ``GET models/`` describes it, and how its values are kept in SQLite."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any

SERVER_KEYS = frozenset({"AutoField", "BigAutoField", "SmallAutoField"})
BOOLEANS = frozenset({"BooleanField", "NullBooleanField"})
JSONS = frozenset({"JSONField"})


@dataclass(frozen=True)
class ModelInfo:
    label: str
    pk: str
    description: dict[str, Any]

    @classmethod
    def from_server(cls, description: dict[str, Any]) -> ModelInfo:
        return cls(label=description["model"], pk=description["pk"], description=description)

    @property
    def permissions(self) -> dict[str, bool]:
        return dict(self.description.get("permissions") or {})

    @property
    def pull(self) -> bool:
        return bool(self.permissions.get("pull"))

    @cached_property
    def fields(self) -> dict[str, dict[str, Any]]:
        return {field["name"]: field for field in self.description.get("fields", [])}

    @cached_property
    def field_names(self) -> list[str]:
        return [field["name"] for field in self.description.get("fields", [])]

    @cached_property
    def writable(self) -> dict[str, str]:
        """Fields a client may send, by name and attname (``customer`` and ``customer_id``), to the name."""
        names: dict[str, str] = {}
        for name, field in self.fields.items():
            if field.get("read_only"):
                continue
            names[name] = name
            if field.get("attname"):
                names[field["attname"]] = name
        return names

    @property
    def client_keys(self) -> bool:
        """Whether the client may choose the primary key of a new row (UUID and other non-auto keys)."""
        return self.fields.get(self.pk, {}).get("type") not in SERVER_KEYS

    @property
    def uuid_keys(self) -> bool:
        return self.fields.get(self.pk, {}).get("type") == "UUIDField"

    @cached_property
    def _json_fields(self) -> frozenset[str]:
        return frozenset(name for name, field in self.fields.items() if field.get("type") in JSONS)

    def encode(self, row: dict[str, Any]) -> dict[str, Any]:
        """JSON values as SQLite values: booleans as 0/1, JSON fields (and any list or object) as JSON text
        (a JSON null as SQL NULL)."""
        out = dict(row)
        out.pop("_model", None)
        jsons = self._json_fields
        for name, value in out.items():
            if (
                value is None
                or isinstance(value, (str, int, float))
                and not isinstance(value, bool)
                and name not in jsons
            ):
                continue
            if name in jsons or isinstance(value, (dict, list)):
                out[name] = json.dumps(value)
            elif isinstance(value, bool):
                out[name] = int(value)
        return out

    def decode(self, row: dict[str, Any]) -> dict[str, Any]:
        """The inverse of ``encode``: the row as the server sends it (without ``_model``)."""
        fields = self.fields
        out: dict[str, Any] = {}
        for name, value in row.items():
            kind = fields.get(name, {}).get("type")
            if value is None:
                out[name] = None
            elif kind in BOOLEANS:
                out[name] = bool(value)
            elif kind in JSONS:
                out[name] = json.loads(value)
            else:
                out[name] = value
        return out
